package dev.renewal.infra.kafka;

import dev.renewal.topics.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the pipeline's topics from their descriptors. Idempotent: a topic that exists is left as
 * it is, and a difference that matters (fewer partitions, another cleanup policy) is reported,
 * since Kafka cannot change it in place safely.
 */
public final class TopicProvisioner {
  private static final Logger LOGGER = LoggerFactory.getLogger(TopicProvisioner.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** What provisioning did. */
  public record Result(List<String> created, List<String> existing, List<String> warnings) {}

  private TopicProvisioner() {}

  public static Result ensure(
      Admin admin, Collection<Topic<?, ?>> topics, short replicationFactor) {
    List<String> created = new ArrayList<>();
    List<String> existing = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    Map<String, KafkaFuture<Void>> futures =
        admin
            .createTopics(topics.stream().map(t -> t.newTopic(replicationFactor)).toList())
            .values();
    for (Topic<?, ?> topic : topics) {
      try {
        futures.get(topic.name()).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        created.add(topic.name());
      } catch (ExecutionException e) {
        if (e.getCause() instanceof TopicExistsException) {
          existing.add(topic.name());
        } else {
          throw new IllegalStateException(
              "cannot create topic " + topic.name() + ": " + e.getCause(), e);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted creating topics", e);
      } catch (TimeoutException e) {
        throw new IllegalStateException("timed out creating topic " + topic.name(), e);
      }
    }
    if (!existing.isEmpty()) {
      warnings.addAll(check(admin, topics, Set.copyOf(existing)));
    }
    warnings.forEach(w -> LOGGER.warn("topic differs from its definition: {}", w));
    LOGGER.info("topics provisioned: created={} existing={}", created, existing);
    return new Result(created, existing, warnings);
  }

  private static List<String> check(
      Admin admin, Collection<Topic<?, ?>> topics, Set<String> names) {
    List<String> warnings = new ArrayList<>();
    try {
      Map<String, TopicDescription> descriptions =
          admin
              .describeTopics(names)
              .allTopicNames()
              .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      Map<String, Topic<?, ?>> byName =
          topics.stream().collect(Collectors.toMap(Topic::name, t -> t));
      descriptions.forEach(
          (name, description) -> {
            int actual = description.partitions().size();
            int wanted = byName.get(name).partitions();
            if (actual < wanted) {
              warnings.add(
                  name + " has " + actual + " partitions, fewer than the configured " + wanted);
            }
          });
    } catch (ExecutionException | TimeoutException e) {
      warnings.add("cannot describe existing topics: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return warnings;
  }
}
