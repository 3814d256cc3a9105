package dev.renewal.cli;

import dev.renewal.topics.DeadLetter;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topic;
import dev.renewal.topics.TopicReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code renewal dlq list|replay}: records no service could process, with why. */
@Command(
    name = "dlq",
    mixinStandardHelpOptions = true,
    description = {
      "Lists dead letters, or re-publishes them to their source topic after a fix.",
      "",
      "dlq list: every dead letter of the dead-letter topics (renewal.requested.dlq,"
          + " acme.order.placed.dlq, acme.order.ready.dlq, acme.streams.dlq,"
          + " certificate.revocation.requested.dlq), with its source, offset and reason. dlq replay --offset N"
          + " [--topic T] (or --all): the original key, value and headers go back to the source"
          + " topic, marked with a dlq.replayed-from header."
    })
final class DlqCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ServiceOptions options;

  @Parameters(index = "0", description = "list or replay")
  String action;

  @Option(names = "--topic", description = "One dead-letter topic (default: all).")
  String topic;

  @Option(names = "--offset", description = "With replay: the dead letter's offset in its topic.")
  List<Long> offsets = new ArrayList<>();

  @Option(names = "--all", description = "With replay: every dead letter.")
  boolean all;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    OpsContext ctx = OpsContext.load(options.settings());
    List<Topic<byte[], byte[]>> topics = new ArrayList<>(ctx.topics().deadLetters());
    if (topic != null) {
      topics.removeIf(t -> !t.name().equals(topic));
    }
    List<ConsumerRecord<byte[], byte[]>> letters = new ArrayList<>();
    TopicReader reader = new TopicReader(ctx.kafka());
    for (Topic<byte[], byte[]> t : topics) {
      letters.addAll(reader.readAll(t, Duration.ofSeconds(30)));
    }
    if (action.equals("list")) {
      for (ConsumerRecord<byte[], byte[]> r : letters) {
        out.printf(
            "%s  %s@%d  from %s[%s]@%s  %d bytes  %s%n",
            Instant.ofEpochMilli(r.timestamp()),
            r.topic(),
            r.offset(),
            DeadLetter.header(r.headers(), DeadLetter.SOURCE_TOPIC),
            DeadLetter.header(r.headers(), DeadLetter.SOURCE_PARTITION),
            DeadLetter.header(r.headers(), DeadLetter.SOURCE_OFFSET),
            r.value() == null ? 0 : r.value().length,
            DeadLetter.header(r.headers(), DeadLetter.REASON));
      }
      out.printf("%d dead letters%n", letters.size());
      out.flush();
      return 0;
    }
    if (!action.equals("replay") || (!all && offsets.isEmpty())) {
      spec.commandLine().getErr().println("dlq: list, or replay with --offset N or --all");
      return 2;
    }
    int replayed = 0;
    try (Publisher publisher = Publisher.create(ctx.kafka(), "renewal-dlq-replay")) {
      for (ConsumerRecord<byte[], byte[]> r : letters) {
        if (!all && !offsets.contains(r.offset())) {
          continue;
        }
        String source = DeadLetter.header(r.headers(), DeadLetter.SOURCE_TOPIC);
        RecordHeaders headers = new RecordHeaders();
        for (Header h : r.headers()) {
          if (!h.key().startsWith("dlq.")) {
            headers.add(h);
          }
        }
        headers.add(
            "dlq.replayed-from", (r.topic() + "@" + r.offset()).getBytes(StandardCharsets.UTF_8));
        publisher.sendRaw(new ProducerRecord<>(source, null, r.key(), r.value(), headers)).get();
        out.printf("replayed %s@%d to %s%n", r.topic(), r.offset(), source);
        replayed++;
      }
    }
    out.printf("replayed %d%n", replayed);
    out.flush();
    return 0;
  }
}
