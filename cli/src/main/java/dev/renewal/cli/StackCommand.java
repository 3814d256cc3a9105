package dev.renewal.cli;

import dev.renewal.infra.EmbeddedStack;
import dev.renewal.topics.Topic;
import dev.renewal.topics.TopicSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code renewal stack}: broker, registry and topics on this machine, until Ctrl-C. */
@Command(
    name = "stack",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the Kafka broker, the schema registry and every topic on this machine.",
      "",
      "Starts a real Apache Kafka broker (KRaft) and a Confluent-compatible schema registry on"
          + " 127.0.0.1, creates every topic of the pipeline, prints where they listen, and runs"
          + " until Ctrl-C. Point Kafka UI, kcat or any Kafka client at it. Data is kept in the"
          + " work folder."
    })
final class StackCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--work-dir",
      defaultValue = "${env:RENEWAL_WORK_DIR:-.renewal}",
      description =
          "Where the broker keeps its data, kept across runs (default: ${DEFAULT-VALUE}).")
  Path workDir;

  @Option(
      names = "--kafka-port",
      defaultValue = "9092",
      description =
          "Kafka client port on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int kafkaPort;

  @Option(
      names = "--registry-port",
      defaultValue = "8081",
      description =
          "Schema registry port on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int registryPort;

  @Option(
      names = "--partitions",
      defaultValue = "3",
      description = "Partitions per topic (default: ${DEFAULT-VALUE}).")
  int partitions;

  @Option(
      names = "--topics-prefix",
      defaultValue = "",
      description = "Prefix for every topic name (default: none).")
  String topicsPrefix;

  @Option(names = "--fresh", description = "Delete the work folder's Kafka data first.")
  boolean fresh;

  @Override
  public Integer call() throws IOException, InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    if (fresh) {
      deleteTree(workDir.resolve("kafka"));
    }
    TopicSettings topicSettings =
        new TopicSettings(topicsPrefix, partitions, (short) 1, 90L * 24 * 3600 * 1000);
    long started = System.nanoTime();
    EmbeddedStack stack = EmbeddedStack.start(workDir, kafkaPort, registryPort, topicSettings);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stack.close();
                  stopped.countDown();
                },
                "stack-shutdown"));
    out.printf("renewal stack is up in %d ms%n", (System.nanoTime() - started) / 1_000_000);
    out.printf("  kafka bootstrap   %s%n", stack.bootstrapServers());
    out.printf("  schema registry   %s%n", stack.registryUrl());
    out.printf("  data              %s%n", workDir.toAbsolutePath().resolve("kafka"));
    out.println("  topics");
    for (Topic<?, ?> t : stack.topics().all()) {
      out.printf("    %-32s %d partitions, %s%n", t.name(), t.partitions(), t.cleanupPolicy());
    }
    out.println(KafkaUi.lines(stack.bootstrapServers(), stack.registryUrl()));
    out.println("Press Ctrl-C to stop.");
    out.flush();
    stopped.await();
    return 0;
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
