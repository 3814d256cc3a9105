package dev.renewal.infra.kafka;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Apache Kafka broker in KRaft mode (broker and controller in one), started in
 * this JVM from the Maven Central jars, listening on loopback only. Its data lives in a folder that
 * survives a restart: the cluster id is kept beside it, and the storage is formatted only once.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Logger LOGGER = LoggerFactory.getLogger(EmbeddedKafka.class);

  private final KafkaRaftServer server;
  private final int port;
  private final Path dataDir;

  private EmbeddedKafka(KafkaRaftServer server, int port, Path dataDir) {
    this.server = server;
    this.port = port;
    this.dataDir = dataDir;
  }

  /**
   * Formats {@code dataDir} if needed and starts the broker.
   *
   * @param port the client port on 127.0.0.1, or 0 for a free one
   */
  public static EmbeddedKafka start(Path dataDir, int port) {
    try {
      Files.createDirectories(dataDir);
      int[] free = freePorts(2);
      int clientPort = port == 0 ? free[0] : port;
      int controllerPort = free[1] == port ? free[0] : free[1];
      Path logDir = dataDir.resolve("log");
      Path config = dataDir.resolve("server.properties");
      Properties props = properties(logDir, clientPort, controllerPort);
      try (var out = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
        props.store(out, "written by renewal's embedded stack on each start");
      }
      format(dataDir, config);
      long started = System.nanoTime();
      KafkaRaftServer server =
          new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
      server.startup();
      LOGGER.info(
          "kafka broker started: bootstrap=127.0.0.1:{} dataDir={} startMs={}",
          clientPort,
          dataDir,
          (System.nanoTime() - started) / 1_000_000);
      return new EmbeddedKafka(server, clientPort, dataDir);
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot prepare Kafka's data folder " + dataDir + ": " + e, e);
    }
  }

  static Properties properties(Path logDir, int clientPort, int controllerPort) {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.put(
        "listeners",
        "PLAINTEXT://127.0.0.1:" + clientPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + clientPort);
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("log.dirs", logDir.toAbsolutePath().toString());
    p.put("num.partitions", "3");
    p.put("default.replication.factor", "1");
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "10");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "10");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("min.insync.replicas", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("auto.create.topics.enable", "false");
    p.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
    return p;
  }

  private static void format(Path dataDir, Path config) throws IOException {
    Path clusterIdFile = dataDir.resolve("cluster.id");
    String clusterId;
    if (Files.exists(clusterIdFile)) {
      clusterId = Files.readString(clusterIdFile, StandardCharsets.UTF_8).trim();
    } else {
      clusterId = Uuid.randomUuid().toString();
      Files.writeString(clusterIdFile, clusterId, StandardCharsets.UTF_8);
    }
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int rc;
    try (PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
      rc =
          StorageTool.execute(
              new String[] {
                "format", "-t", clusterId, "-c", config.toString(), "--ignore-formatted"
              },
              out);
    }
    if (rc != 0) {
      throw new IllegalStateException(
          "formatting Kafka storage in "
              + dataDir
              + " failed ("
              + rc
              + "): "
              + captured.toString(StandardCharsets.UTF_8));
    }
  }

  /** Ports this process has handed out: never handed out again, bound or not yet. */
  private static final java.util.Set<Integer> HANDED_OUT =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * {@code n} distinct ports free on 127.0.0.1, none handed out before by this process. A port is
   * often picked a while before its server binds it (Pebble's validation port before the challenge
   * responder that listens there starts, the ports of a restarted Pebble): handed out once, it is
   * not picked again for another server of this process in the meantime (once in CI, Pebble's API
   * and its management interface got one port; once in the bench, a restarted Pebble's port was the
   * HTTP-01 port the next challenge-service had to bind).
   */
  public static synchronized int[] freePorts(int n) throws IOException {
    java.util.List<ServerSocket> sockets = new java.util.ArrayList<>();
    try {
      int[] ports = new int[n];
      int found = 0;
      for (int tries = 0; found < n; tries++) {
        if (tries > 1000) {
          throw new IOException("no free port on 127.0.0.1 after 1000 tries");
        }
        // Held open while the others are picked, so that the system hands out another.
        ServerSocket socket = new ServerSocket(0, 0, java.net.InetAddress.getLoopbackAddress());
        sockets.add(socket);
        if (HANDED_OUT.add(socket.getLocalPort())) {
          ports[found++] = socket.getLocalPort();
        }
      }
      return ports;
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }

  /** One port as {@link #freePorts}. */
  public static int freePort() throws IOException {
    return freePorts(1)[0];
  }

  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public Path dataDir() {
    return dataDir;
  }

  @Override
  public void close() {
    long started = System.nanoTime();
    server.shutdown();
    server.awaitShutdown();
    LOGGER.info("kafka broker stopped: stopMs={}", (System.nanoTime() - started) / 1_000_000);
  }
}
