package dev.renewal.testkit;

import dev.renewal.events.ChallengeType;
import dev.renewal.events.RenewalRequested;
import dev.renewal.infra.EmbeddedStack;
import dev.renewal.infra.kafka.EmbeddedKafka;
import dev.renewal.testkit.pebble.PebbleServer;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What the integration tests of the services share, as a JUnit extension registered on a static
 * field: a broker and registry ({@link EmbeddedStack}) and the named Pebbles for the class; for
 * each test a namespace of its own on that broker (topics prefixed with the test's name, every
 * topic created), a folder, and the things it started, closed after it in reverse order.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final StackFixture fx = StackFixture.create().pebble("pebble", Map.of("PEBBLE_AUTHZREUSE", "0"));
 * }</pre>
 */
public final class StackFixture
    implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
  private final Map<String, Map<String, String>> pebbleEnvironments = new LinkedHashMap<>();
  private final Map<String, PebbleServer> pebbles = new LinkedHashMap<>();
  private final Map<String, Integer> httpPorts = new HashMap<>();
  private final Map<String, String> sharedHttpPorts = new HashMap<>();
  private final Map<String, java.util.function.UnaryOperator<PebbleServer.Options>> pebbleOptions =
      new HashMap<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private Path work;
  private EmbeddedStack stack;
  private String test;
  private String prefix;
  private Topics topics;

  private StackFixture() {}

  public static StackFixture create() {
    return new StackFixture();
  }

  /** Starts a Pebble called {@code name} with {@code environment} (and real validation). */
  public StackFixture pebble(String name, Map<String, String> environment) {
    pebbleEnvironments.put(name, Map.copyOf(environment));
    return this;
  }

  /** The same, issuing certificates valid for {@code validity} (for renewal tests). */
  public StackFixture pebble(
      String name, Map<String, String> environment, java.time.Duration validity) {
    return pebble(name, environment, o -> o.withCertificateValidity(validity));
  }

  /**
   * A Pebble called {@code name} issuing certificates valid for {@code validity}, validating
   * HTTP-01 on the port of Pebble {@code sameHttpPortAs} (declared before it): one
   * challenge-service answers for both, as for two CA profiles of one pipeline.
   */
  public StackFixture pebble(
      String name,
      Map<String, String> environment,
      java.time.Duration validity,
      String sameHttpPortAs) {
    if (!pebbleEnvironments.containsKey(sameHttpPortAs)) {
      throw new IllegalArgumentException(
          "no Pebble " + sameHttpPortAs + " declared before " + name);
    }
    sharedHttpPorts.put(name, sameHttpPortAs);
    return pebble(name, environment, validity);
  }

  /** A Pebble called {@code name} with {@code environment}, its options changed by {@code more}. */
  public StackFixture pebble(
      String name,
      Map<String, String> environment,
      java.util.function.UnaryOperator<PebbleServer.Options> more) {
    pebbleOptions.put(name, more);
    return pebble(name, environment);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    work = Files.createTempDirectory(context.getRequiredTestClass().getSimpleName() + "-");
    stack =
        EmbeddedStack.start(
            work.resolve("stack"), 0, 0, new TopicSettings("", 3, (short) 1, 3_600_000));
    for (var e : pebbleEnvironments.entrySet()) {
      String shared = sharedHttpPorts.get(e.getKey());
      int port = shared != null ? httpPorts.get(shared) : EmbeddedKafka.freePort();
      httpPorts.put(e.getKey(), port);
      pebbles.put(
          e.getKey(),
          PebbleServer.start(
              pebbleOptions
                  .getOrDefault(e.getKey(), o -> o)
                  .apply(
                      PebbleServer.Options.defaults(work.resolve(e.getKey()), port)
                          .withEnvironment(e.getValue()))));
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    List<AutoCloseable> all = new ArrayList<>(pebbles.values());
    all.add(stack);
    for (AutoCloseable c : all) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // best effort: the next one is still closed
      }
    }
    delete(work);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    test = context.getRequiredTestMethod().getName();
    prefix = test + ".";
    topics = stack.topics(prefix);
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    Exception first = null;
    for (int i = closeables.size() - 1; i >= 0; i--) {
      try {
        closeables.get(i).close();
      } catch (Exception e) {
        first = first == null ? e : first;
      }
    }
    closeables.clear();
    if (first != null) {
      throw first;
    }
  }

  /** Closes {@code closeable} after the test (in the reverse order of keeping). */
  public <T extends AutoCloseable> T keep(T closeable) {
    closeables.add(closeable);
    return closeable;
  }

  public EmbeddedStack stack() {
    return stack;
  }

  public PebbleServer pebble(String name) {
    return pebbles.get(name);
  }

  /** The port the Pebble called {@code name} validates HTTP-01 on. */
  public int httpPort(String name) {
    return httpPorts.get(name);
  }

  /** The class's folder (deleted after the class). */
  public Path work() {
    return work;
  }

  /** This test's topic prefix: its method name and a dot. */
  public String prefix() {
    return prefix;
  }

  /** This test's topics, every one created. */
  public Topics topics() {
    return topics;
  }

  /** A folder of this test's own (not created). */
  public Path dir() {
    return work.resolve(prefix);
  }

  /**
   * The settings every service of a test needs: this broker, registry and topic prefix, and one CA
   * profile {@code pebble} at {@code directory}, trusting {@code trust}, its terms agreed.
   */
  public Map<String, String> settings(URI directory, Path trust) {
    Map<String, String> s = new HashMap<>();
    s.put("kafka.bootstrap.servers", stack.bootstrapServers());
    s.put("registry.url", stack.registryUrl().toString());
    s.put("topics.prefix", prefix);
    s.put("ca.profiles", "pebble");
    s.put("ca.pebble.directory.url", directory.toString());
    s.put("ca.pebble.trust.pem", trust.toString());
    s.put("ca.pebble.terms.agreed", "true");
    return s;
  }

  /**
   * Publishes a renewal request for {@code names} (CA profile {@code pebble}, certificate name
   * {@code c-<first 8 characters of the id>}) to this test's topic; returns its request id.
   */
  public String publish(ChallengeType type, String... names) throws Exception {
    String id = UUID.randomUUID().toString();
    keep(Publisher.create(stack.clientProps(), "it"))
        .send(topics.renewalRequested, id, request(id, type, "pebble", names))
        .get();
    return id;
  }

  /**
   * A renewal request {@code id} for {@code names} on CA profile {@code profile}, stamped now,
   * certificate name {@code c-<first 8 characters of the id>}.
   */
  public static RenewalRequested request(
      String id, ChallengeType type, String profile, String... names) {
    return RenewalRequested.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(id)
        .setOccurredAt(Instant.now())
        .setCertificateName("c-" + id.substring(0, 8))
        .setDnsNames(List.of(names))
        .setChallengeType(type)
        .setCaProfile(profile)
        .build();
  }

  private static void delete(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
