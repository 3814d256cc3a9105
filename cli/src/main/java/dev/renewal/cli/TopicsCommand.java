package dev.renewal.cli;

import dev.renewal.infra.kafka.TopicProvisioner;
import dev.renewal.topics.Topic;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code renewal topics [--create]}: the topic catalogue, and creating it on a broker. */
@Command(
    name = "topics",
    mixinStandardHelpOptions = true,
    description = {
      "Lists the pipeline's topics as this configuration defines them (names with any"
          + " topics.prefix, partitions, cleanup policy).",
      "",
      "With --create, creates the missing ones on the broker at kafka.bootstrap.servers (topics"
          + " that exist are left as they are). `renewal stack` and the demo do this themselves;"
          + " infra/compose.yaml runs it once before the services start."
    })
final class TopicsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ServiceOptions options;

  @Option(names = "--create", description = "Create the missing topics on the broker.")
  boolean create;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    OpsContext ctx = OpsContext.load(options.settings());
    for (Topic<?, ?> t : ctx.topics().all()) {
      out.printf("%-36s %3d partition(s)  %s%n", t.name(), t.partitions(), t.cleanupPolicy());
    }
    if (create) {
      try (Admin admin = Admin.create(Map.copyOf(ctx.kafka()))) {
        TopicProvisioner.Result r =
            TopicProvisioner.ensure(admin, ctx.topics().all(), ctx.topics().replicationFactor());
        out.printf(
            "created %d, already there %d (replication factor %d)%n",
            r.created().size(), r.existing().size(), ctx.topics().replicationFactor());
        r.warnings().forEach(w -> out.println("warning: " + w));
      }
    }
    out.flush();
    return 0;
  }
}
