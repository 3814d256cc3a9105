package dev.renewal.topics;

import dev.renewal.config.Settings;

/**
 * How topics are named and made.
 *
 * @param prefix prepended to every topic name (one cluster, several pipelines or test runs)
 * @param partitions partitions of each topic; the ceiling of consumer instances per service
 * @param replicationFactor 1 on one machine, 3 on a real cluster
 * @param retentionMs how long events are kept: the audit trail, and what replay can reach
 */
public record TopicSettings(
    String prefix, int partitions, short replicationFactor, long retentionMs) {

  public static TopicSettings from(Settings settings) {
    Settings.Reader r = settings.withDefaults(Topics.DEFAULTS).reader();
    String prefix = r.optional("topics.prefix").orElse("");
    int partitions = r.integer("topics.partitions", 1, 10_000);
    short replication = (short) r.integer("topics.replication.factor", 1, Short.MAX_VALUE);
    long retention = r.number("topics.retention.ms", -1, Long.MAX_VALUE);
    if (!prefix.isEmpty() && !prefix.matches("[a-zA-Z0-9._-]+")) {
      r.problem("topics.prefix", prefix, "may hold only letters, digits, '.', '_' and '-'");
    }
    r.done();
    return new TopicSettings(prefix, partitions, replication, retention);
  }
}
