package dev.renewal.order;

import dev.renewal.acme.CaCalls;
import dev.renewal.acme.CaWorkers;
import dev.renewal.acme.ServiceContext;
import dev.renewal.config.ConfigException;
import dev.renewal.config.Settings;
import dev.renewal.events.OrderRecord;
import dev.renewal.events.RenewalRequested;
import dev.renewal.metrics.MetricsEndpoint;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.order.acme.Acme4jOrderGateway;
import dev.renewal.order.handler.RequestHandler;
import dev.renewal.topics.CompactedStore;
import dev.renewal.topics.ConsumerLoop;
import dev.renewal.topics.Publisher;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * order-service: wiring only. Reads configuration (defaults, the file named by {@code --config} or
 * {@code RENEWAL_CONFIG}, then {@code RENEWAL_*} variables), starts the consumer, runs until
 * stopped.
 */
public final class OrderServiceApp implements AutoCloseable {
  /** Defaults of order-service's own keys. */
  public static final Map<String, String> DEFAULTS =
      Map.of(
          "order.group.id",
          "renewal-order-service",
          "order.max.pending",
          "10000",
          "order.metrics.host",
          "127.0.0.1",
          "order.metrics.port",
          "0");

  /** The service name in logs, client ids and dead-letter headers. */
  public static final String SERVICE = "order-service";

  private final ConsumerLoop<RenewalRequested> service;
  private final Publisher publisher;
  private final CaWorkers caWorkers;
  private final ServiceMetrics metrics;
  private final MetricsEndpoint endpoint;

  private OrderServiceApp(
      ConsumerLoop<RenewalRequested> service,
      Publisher publisher,
      CaWorkers caWorkers,
      ServiceMetrics metrics,
      MetricsEndpoint endpoint) {
    this.service = service;
    this.publisher = publisher;
    this.caWorkers = caWorkers;
    this.metrics = metrics;
    this.endpoint = endpoint;
  }

  /** Builds and starts order-service from {@code settings}. */
  public static OrderServiceApp start(Settings raw) {
    ServiceContext ctx = ServiceContext.load(raw);
    Settings settings = ctx.settings().withDefaults(DEFAULTS);
    Settings.Reader r = settings.reader();
    String groupId = r.string("order.group.id");
    int maxPending = r.integer("order.max.pending", 1, 1_000_000);
    MetricsEndpoint.Address metricsAt = MetricsEndpoint.Address.read(r, "order");
    r.done();

    CaWorkers caWorkers = CaWorkers.create(ctx.profiles(), SERVICE);
    Publisher publisher = Publisher.create(ctx.kafka(), SERVICE);
    CompactedStore<OrderRecord> records =
        new CompactedStore<>(ctx.topics().orderRecords, publisher, ctx.kafka());
    ServiceMetrics metrics = new ServiceMetrics(SERVICE);
    RequestHandler handler =
        new RequestHandler(
            ctx.profiles(),
            new CaCalls(caWorkers.byProfile(), publisher, ctx.topics(), Clock.systemUTC(), metrics),
            new Acme4jOrderGateway(ctx.sessions(), ctx.accounts()),
            records,
            publisher,
            ctx.topics(),
            Clock.systemUTC(),
            metrics);
    ConsumerLoop<RenewalRequested> service =
        new ConsumerLoop<>(
            SERVICE,
            ctx.groupMember(SERVICE),
            groupId,
            ctx.topics().renewalRequested,
            ctx.topics().renewalRequestedDlq.name(),
            publisher,
            maxPending,
            new ConsumerLoop.Callbacks<>(
                handler::handle,
                records::load,
                partitions -> {
                  handler.cancel(partitions);
                  // What was written before the revocation is on the log before the partition
                  // moves: its next owner reads the records to their end when assigned.
                  publisher.flush();
                  records.unload(partitions);
                },
                () -> metrics.count("records.dead.lettered")));
    MetricsEndpoint endpoint = MetricsEndpoint.startUnlessDisabled(metrics, metricsAt);
    service.start();
    return new OrderServiceApp(service, publisher, caWorkers, metrics, endpoint);
  }

  public boolean ready() {
    return service.ready();
  }

  public ServiceMetrics metrics() {
    return metrics;
  }

  /** Where the metrics are served, or empty when disabled. */
  public java.util.Optional<java.net.URI> metricsUri() {
    return java.util.Optional.ofNullable(endpoint).map(MetricsEndpoint::uri);
  }

  @Override
  public void close() {
    service.close();
    // The producer closes before the CA workers: CA work still in flight when they stop can no
    // longer announce anything, so a shutdown never turns it into a RenewalFailed; its input is
    // not committed and is resumed after the restart.
    publisher.close();
    caWorkers.close();
    if (endpoint != null) {
      endpoint.close();
    }
  }

  /** Loads settings from defaults, {@code --config FILE} or {@code RENEWAL_CONFIG}, and env. */
  public static Settings settingsFromArgs(String[] args) {
    Path file = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        file = Path.of(args[++i]);
      }
    }
    if (file == null && System.getenv("RENEWAL_CONFIG") != null) {
      file = Path.of(System.getenv("RENEWAL_CONFIG"));
    }
    return Settings.load(Map.of(), file, System.getenv());
  }

  public static void main(String[] args) throws InterruptedException {
    OrderServiceApp app;
    try {
      app = start(settingsFromArgs(args));
    } catch (ConfigException e) {
      System.err.println("order-service: " + e.getMessage());
      System.exit(2);
      return;
    }
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  app.close();
                  stop.countDown();
                },
                "order-service-shutdown"));
    stop.await();
  }
}
