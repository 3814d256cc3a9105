package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.acme.CaProfiles;
import dev.renewal.acme.ServiceContext;
import dev.renewal.challenge.ChallengeServiceApp;
import dev.renewal.config.Settings;
import dev.renewal.finalize.FinalizeServiceApp;
import dev.renewal.order.OrderServiceApp;
import dev.renewal.registry.InMemorySchemaRegistryClient;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.Topic;
import dev.renewal.topics.TopicSettings;
import dev.renewal.topics.Topics;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * infra/compose.yaml against the code: it must parse, run real subcommands, set only keys the
 * services read, name only topics of the catalogue, and agree on every port and address.
 */
class ComposeFileTest {
  private static final Path ROOT = findRoot();
  private static final List<String> OURS =
      List.of("order-service", "challenge-service", "finalize-service");

  /** Keys read without a default (so absent from the DEFAULTS maps). */
  private static final Set<String> READ_WITHOUT_DEFAULT =
      Set.of(
          "ca.profiles",
          "ca.pebble.directory.url",
          "ca.pebble.trust.pem",
          "ca.pebble.eab.kid",
          "ca.pebble.eab.hmac",
          "ca.pebble.contact",
          "topics.prefix",
          "challenge.dns.resolver",
          "challenge.dns.challtestsrv.url",
          "challenge.dns.rfc2136.server",
          "challenge.dns.rfc2136.zone",
          "challenge.dns.rfc2136.tsig.name",
          "challenge.dns.rfc2136.tsig.secret",
          "finalize.key.dir",
          "registry.basic.auth.user.info");

  @TempDir Path tmp;

  private static Path findRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (!Files.exists(p.resolve("infra/compose.yaml"))) {
      p = p.getParent();
    }
    return p;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> compose() throws IOException {
    return new Yaml().load(Files.readString(ROOT.resolve("infra/compose.yaml")));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> service(String name) throws IOException {
    Map<String, Object> services = (Map<String, Object>) compose().get("services");
    assertThat(services).as("services of compose.yaml").containsKey(name);
    return (Map<String, Object>) services.get(name);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, String> env(String name) throws IOException {
    Map<String, Object> e = (Map<String, Object>) service(name).get("environment");
    Map<String, String> out = new TreeMap<>();
    e.forEach((k, v) -> out.put(k, String.valueOf(v)));
    return out;
  }

  @SuppressWarnings("unchecked")
  private static List<String> ports(String name) throws IOException {
    return ((List<Object>) service(name).getOrDefault("ports", List.of()))
        .stream().map(String::valueOf).toList();
  }

  @SuppressWarnings("unchecked")
  private static String address(String name) throws IOException {
    Map<String, Object> nets = (Map<String, Object>) service(name).get("networks");
    return String.valueOf(((Map<String, Object>) nets.get("renewal")).get("ipv4_address"));
  }

  private static String command(String name) throws IOException {
    Object c = service(name).get("command");
    return c instanceof List<?> l
        ? String.join(" ", l.stream().map(String::valueOf).toList())
        : String.valueOf(c);
  }

  private static String flag(String command, String flag) {
    Matcher m = Pattern.compile(Pattern.quote(flag) + "\\s+(\\S+)").matcher(command);
    assertThat(m.find()).as(flag + " in: " + command).isTrue();
    return m.group(1);
  }

  /** 10.30.50.0/24 as {address, prefix length}: the address as an int. */
  private static int[] cidr(String text) {
    String[] parts = text.split("/");
    int address = 0;
    for (String octet : parts[0].split("\\.")) {
      address = (address << 8) | Integer.parseInt(octet);
    }
    return new int[] {address, Integer.parseInt(parts[1])};
  }

  private static boolean within(String address, String range) {
    int[] r = cidr(range);
    int a = cidr(address + "/32")[0];
    int mask = r[1] == 0 ? 0 : -1 << (32 - r[1]);
    return (a & mask) == (r[0] & mask);
  }

  @Test
  @SuppressWarnings("unchecked")
  void noContainerCanTakeAnotherOnesFixedAddress() throws IOException {
    Map<String, Object> network =
        (Map<String, Object>) ((Map<String, Object>) compose().get("networks")).get("renewal");
    Map<String, Object> config =
        ((List<Map<String, Object>>) ((Map<String, Object>) network.get("ipam")).get("config"))
            .get(0);
    String subnet = String.valueOf(config.get("subnet"));
    // Without an ip_range Docker hands out the whole subnet, fixed addresses included, to the
    // containers that start first without one (Kafka, with no dependencies, would likely take
    // .2, and Pebble then fails with "Address already in use").
    assertThat(config).as("ipam config of the renewal network").containsKey("ip_range");
    String automatic = String.valueOf(config.get("ip_range"));
    assertThat(within(automatic.split("/")[0], subnet)).as(automatic + " in " + subnet).isTrue();
    Map<String, Object> services = (Map<String, Object>) compose().get("services");
    Set<String> fixed = new HashSet<>();
    for (String name : services.keySet()) {
      Object nets = service(name).get("networks");
      if (nets instanceof Map<?, ?> m
          && m.get("renewal") instanceof Map<?, ?> n
          && n.get("ipv4_address") != null) {
        String address = String.valueOf(n.get("ipv4_address"));
        assertThat(within(address, subnet)).as(name + " " + address + " in " + subnet).isTrue();
        assertThat(within(address, automatic))
            .as(name + " " + address + " outside the automatic range " + automatic)
            .isFalse();
        assertThat(fixed.add(address)).as(name + " " + address + " is nobody else's").isTrue();
        if (config.get("gateway") != null) {
          assertThat(address).isNotEqualTo(String.valueOf(config.get("gateway")));
        }
      }
    }
    assertThat(fixed).hasSize(3);
  }

  @Test
  void kafkaUiIsTheImageTheCommandsPrint() throws IOException {
    assertThat(service("kafka-ui").get("image")).isEqualTo(KafkaUi.IMAGE);
    assertThat(KafkaUi.command("127.0.0.1:9092", URI.create("http://127.0.0.1:8081")))
        .isEqualTo(
            "docker run --rm --network host -e KAFKA_CLUSTERS_0_NAME=renewal"
                + " -e KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS=127.0.0.1:9092"
                + " -e KAFKA_CLUSTERS_0_SCHEMAREGISTRY=http://127.0.0.1:8081 "
                + KafkaUi.IMAGE);
  }

  @Test
  void everyPartAUserNeedsIsThere() throws IOException {
    @SuppressWarnings("unchecked")
    Map<String, Object> services = (Map<String, Object>) compose().get("services");
    assertThat(services.keySet())
        .contains(
            "kafka",
            "schema-registry",
            "kafka-ui",
            "pebble",
            "challtestsrv",
            "topics",
            "order-service",
            "challenge-service",
            "finalize-service",
            "scheduler-service");
    assertThat(String.valueOf(service("kafka").get("image"))).startsWith("apache/kafka:");
    assertThat(env("kafka")).containsEntry("KAFKA_PROCESS_ROLES", "broker,controller");
    assertThat(String.valueOf(service("schema-registry").get("image")))
        .startsWith("confluentinc/cp-schema-registry:");
  }

  @Test
  void ourServicesRunRealSubcommandsOfTheImagesEntryPoint() throws IOException {
    Set<String> subcommands = RenewalCli.commandLine().getSubcommands().keySet();
    for (String s :
        List.of(
            "topics",
            "order-service",
            "challenge-service",
            "finalize-service",
            "scheduler-service")) {
      String first = command(s).split(" ")[0];
      assertThat(subcommands).as(s).contains(first);
      assertThat(RenewalCli.commandLine().getSubcommands().get(first).getCommandSpec().name())
          .isEqualTo(first);
    }
    assertThat(command("topics")).isEqualTo("topics --create");
    String dockerfile = Files.readString(ROOT.resolve("infra/Dockerfile"), StandardCharsets.UTF_8);
    assertThat(dockerfile).contains("\"" + RenewalCli.class.getName() + "\"");
    // The JVM flags every command needs are the image's too; the one for the test CA's proxy is
    // the launcher's for demo and bench only, and not the image's (it runs no proxy).
    String script = Files.readString(ROOT.resolve("renewal"), StandardCharsets.UTF_8);
    String avro = "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.renewal.events";
    assertThat(script).contains(avro);
    assertThat(dockerfile).contains("\"" + avro + "\"");
    String proxy = "-Djdk.httpclient.allowRestrictedHeaders=host";
    assertThat(script).contains("demo | bench) proxy_opts=\"" + proxy + "\"");
    assertThat(dockerfile).doesNotContain(proxy);
  }

  @Test
  void everyKeySetForOurServicesIsAKeyTheyReadAndTheSettingsValidate() throws IOException {
    Set<String> known = new HashSet<>(READ_WITHOUT_DEFAULT);
    known.addAll(ServiceContext.DEFAULTS.keySet());
    known.addAll(CaProfiles.defaults("pebble").keySet());
    known.addAll(Topics.DEFAULTS.keySet());
    known.addAll(OrderServiceApp.DEFAULTS.keySet());
    known.addAll(ChallengeServiceApp.DEFAULTS.keySet());
    known.addAll(FinalizeServiceApp.DEFAULTS.keySet());
    for (String s : OURS) {
      Map<String, String> env = env(s);
      Map<String, String> keys = new TreeMap<>();
      env.forEach((k, v) -> keys.put(Settings.envToKey(k), v));
      for (String key : keys.keySet()) {
        if (!key.startsWith("kafka.")) {
          assertThat(known).as("key %s set for %s", key, s).contains(key);
        }
      }
      // The shared keys pass the services' own validation (the trust file stands in locally).
      Path trust = tmp.resolve("pebble.minica.pem");
      Files.writeString(trust, "stand-in");
      Map<String, String> local = new HashMap<>(keys);
      local.put("ca.pebble.trust.pem", trust.toString());
      ServiceContext ctx = ServiceContext.load(Settings.of(local));
      assertThat(ctx.profiles().names()).containsExactly("pebble");
      assertThat(ctx.profiles().get("pebble").orElseThrow().directoryUrl())
          .isEqualTo(URI.create("https://pebble:14000/dir"));
    }
  }

  @Test
  void everyKeySetForTheSchedulerIsAKeyItReads() throws IOException {
    Set<String> known = new HashSet<>(READ_WITHOUT_DEFAULT);
    known.addAll(ServiceContext.DEFAULTS.keySet());
    known.addAll(CaProfiles.defaults("pebble").keySet());
    known.addAll(Topics.DEFAULTS.keySet());
    known.addAll(dev.renewal.scheduler.SchedulerServiceApp.DEFAULTS.keySet());
    for (String k : env("scheduler-service").keySet()) {
      String key = Settings.envToKey(k);
      if (!key.startsWith("kafka.")) {
        assertThat(known).as("key %s set for scheduler-service", key).contains(key);
      }
    }
    assertThat(env("scheduler-service"))
        .containsEntry("RENEWAL_SCHEDULER_METRICS_PORT", "9404")
        .containsKey("RENEWAL_SCHEDULER_STATE_DIR");
  }

  @Test
  void topicsNamedInTheFileAreTopicsOfTheCatalogue() throws IOException {
    Topics topics =
        Topics.create(
            TopicSettings.from(Settings.of(Map.of())),
            new AvroSerdes(new InMemorySchemaRegistryClient(), true));
    Set<String> catalogue = topics.all().stream().map(Topic::name).collect(Collectors.toSet());
    String text = Files.readString(ROOT.resolve("infra/compose.yaml"));
    Matcher m =
        Pattern.compile(
                "\\b(?:renewal|acme)\\.(?:requested|failed|certificate|order|challenge|authorization|http01)[a-z0-9.\\-]*")
            .matcher(text);
    while (m.find()) {
      assertThat(catalogue).as("topic named in compose.yaml").contains(m.group());
    }
  }

  @Test
  void portsAndAddressesAgreeWithTheCodeAndWithEachOther() throws IOException {
    // The operator's commands default to the published Kafka and registry ports.
    String bootstrap = OpsContext.DEFAULTS.get("kafka.bootstrap.servers");
    String kafkaPort = bootstrap.substring(bootstrap.lastIndexOf(':') + 1);
    assertThat(ports("kafka")).contains(kafkaPort + ":" + kafkaPort);
    assertThat(env("kafka").get("KAFKA_ADVERTISED_LISTENERS")).contains("localhost:" + kafkaPort);
    int registryPort = URI.create(OpsContext.DEFAULTS.get("registry.url")).getPort();
    assertThat(ports("schema-registry")).contains(registryPort + ":" + registryPort);
    assertThat(env("schema-registry").get("SCHEMA_REGISTRY_LISTENERS"))
        .endsWith(":" + registryPort);

    // The services reach Kafka and the registry where those listen inside the network.
    Map<String, String> shared = env("order-service");
    String internal = shared.get("RENEWAL_KAFKA_BOOTSTRAP_SERVERS");
    assertThat(env("kafka").get("KAFKA_ADVERTISED_LISTENERS")).contains("://" + internal);
    assertThat(env("kafka").get("KAFKA_LISTENERS"))
        .contains("://:" + internal.substring(internal.indexOf(':') + 1));
    assertThat(env("schema-registry").get("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"))
        .isEqualTo(internal);
    assertThat(env("kafka-ui"))
        .containsEntry("KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS", internal)
        .containsEntry("KAFKA_CLUSTERS_0_SCHEMAREGISTRY", shared.get("RENEWAL_REGISTRY_URL"));
    assertThat(URI.create(shared.get("RENEWAL_REGISTRY_URL")).getPort()).isEqualTo(registryPort);

    // Metrics: the standalone commands' ports, published as they are.
    Map<String, Integer> metrics =
        Map.of(
            "order", OrderServiceCommand.METRICS_PORT,
            "challenge", ChallengeServiceCommand.METRICS_PORT,
            "finalize", FinalizeServiceCommand.METRICS_PORT);
    metrics.forEach(
        (prefix, port) -> {
          try {
            Map<String, String> e = env(prefix + "-service");
            String p = prefix.toUpperCase(java.util.Locale.ROOT);
            assertThat(e)
                .containsEntry("RENEWAL_" + p + "_METRICS_PORT", String.valueOf(port))
                .containsEntry("RENEWAL_" + p + "_METRICS_HOST", "0.0.0.0");
            assertThat(ports(prefix + "-service")).contains(port + ":" + port);
          } catch (IOException ex) {
            throw new java.io.UncheckedIOException(ex);
          }
        });

    // HTTP-01: Pebble validates on 5002 of whatever challtestsrv resolves names to, which must be
    // challenge-service's address, where its responder listens on that port.
    Map<String, String> challenge = env("challenge-service");
    assertThat(challenge.get("RENEWAL_CHALLENGE_HTTP01_PORT"))
        .isEqualTo(ChallengeServiceApp.DEFAULTS.get("challenge.http01.port"))
        .isEqualTo("5002");
    assertThat(flag(command("challtestsrv"), "-defaultIPv4"))
        .isEqualTo(address("challenge-service"));
    String dns = address("challtestsrv") + ":8053";
    assertThat(flag(command("pebble"), "-dnsserver")).isEqualTo(dns);
    assertThat(challenge.get("RENEWAL_CHALLENGE_DNS_RESOLVER")).isEqualTo(dns);
    assertThat(challenge.get("RENEWAL_CHALLENGE_DNS_CHALLTESTSRV_URL"))
        .isEqualTo("http://" + address("challtestsrv") + ":8055");
    assertThat(ports("pebble")).contains("14000:14000");

    // Pebble's test CA reaches the services through the shared volume.
    String trust = shared.get("RENEWAL_CA_PEBBLE_TRUST_PEM");
    @SuppressWarnings("unchecked")
    List<String> pebbleVolumes = (List<String>) service("pebble").get("volumes");
    assertThat(pebbleVolumes).contains("pebble-certs:/test/certs");
    for (String s : OURS) {
      @SuppressWarnings("unchecked")
      List<String> volumes = (List<String>) service(s).get("volumes");
      String mount =
          volumes.stream().filter(v -> v.startsWith("pebble-certs:")).findFirst().orElseThrow();
      String dir = mount.split(":")[1];
      assertThat(trust).startsWith(dir + "/");
      assertThat(volumes)
          .as(s + " shares the account keys")
          .contains("renewal-keys:" + shared.get("RENEWAL_ACME_KEY_DIR"));
    }
  }
}
