package dev.renewal.challenge;

import dev.renewal.acme.CaCalls;
import dev.renewal.acme.CaWorkers;
import dev.renewal.acme.PollPolicy;
import dev.renewal.acme.ServiceContext;
import dev.renewal.challenge.acme.Acme4jAuthorizationGateway;
import dev.renewal.challenge.dns.ChalltestsrvDnsProvider;
import dev.renewal.challenge.dns.DnsProvider;
import dev.renewal.challenge.dns.Rfc2136DnsProvider;
import dev.renewal.challenge.dns.TxtLookup;
import dev.renewal.challenge.handler.ChallengeHandler;
import dev.renewal.challenge.http01.Http01Responder;
import dev.renewal.challenge.http01.Http01Responses;
import dev.renewal.challenge.provision.ChallengeResponses;
import dev.renewal.challenge.provision.SelfCheck;
import dev.renewal.config.Settings;
import dev.renewal.events.ChallengeRecord;
import dev.renewal.events.OrderPlaced;
import dev.renewal.metrics.MetricsEndpoint;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.topics.CompactedStore;
import dev.renewal.topics.ConsumerLoop;
import dev.renewal.topics.Publisher;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * challenge-service: wiring only. Consumes {@code acme.order.placed}, serves HTTP-01 tokens from
 * the shared topic, writes DNS-01 records through the configured provider.
 */
public final class ChallengeServiceApp implements AutoCloseable {
  public static final String SERVICE = "challenge-service";

  /** Defaults of challenge-service's own keys. */
  public static final Map<String, String> DEFAULTS =
      Map.ofEntries(
          Map.entry("challenge.metrics.host", "127.0.0.1"),
          Map.entry("challenge.metrics.port", "0"),
          Map.entry("challenge.group.id", "renewal-challenge-service"),
          Map.entry("challenge.max.pending", "10000"),
          Map.entry("challenge.http01.enabled", "true"),
          Map.entry("challenge.http01.host", "0.0.0.0"),
          Map.entry("challenge.http01.port", "5002"),
          Map.entry("challenge.selfcheck.timeout", "30s"),
          Map.entry("challenge.poll.initial", "20ms"),
          Map.entry("challenge.poll.max", "5s"),
          Map.entry("challenge.dns.provider", "none"),
          Map.entry("challenge.dns.propagation.timeout", "2m"),
          Map.entry("challenge.dns.rfc2136.tsig.algorithm", "hmac-sha256"),
          Map.entry("challenge.dns.ttl", "60"));

  private final ConsumerLoop<OrderPlaced> loop;
  private final Http01Responses http01;
  private final Http01Responder responder;
  private final Publisher publisher;
  private final CaWorkers caWorkers;
  private final ExecutorService dnsWorkers;
  private final ServiceMetrics metrics;
  private final MetricsEndpoint endpoint;

  private ChallengeServiceApp(
      ConsumerLoop<OrderPlaced> loop,
      Http01Responses http01,
      Http01Responder responder,
      Publisher publisher,
      CaWorkers caWorkers,
      ExecutorService dnsWorkers,
      ServiceMetrics metrics,
      MetricsEndpoint endpoint) {
    this.loop = loop;
    this.http01 = http01;
    this.responder = responder;
    this.publisher = publisher;
    this.caWorkers = caWorkers;
    this.dnsWorkers = dnsWorkers;
    this.metrics = metrics;
    this.endpoint = endpoint;
  }

  public static ChallengeServiceApp start(Settings raw) {
    ServiceContext ctx = ServiceContext.load(raw);
    Settings settings = ctx.settings().withDefaults(DEFAULTS);
    Settings.Reader r = settings.reader();
    String groupId = r.string("challenge.group.id");
    int maxPending = r.integer("challenge.max.pending", 1, 1_000_000);
    boolean http01Enabled = r.bool("challenge.http01.enabled");
    String host = r.string("challenge.http01.host");
    int port = r.integer("challenge.http01.port", 0, 65535);
    Optional<String> selfCheckUrl = r.optional("challenge.selfcheck.url");
    Duration selfCheckTimeout =
        r.duration("challenge.selfcheck.timeout", Duration.ofMillis(100), Duration.ofMinutes(10));
    PollPolicy poll =
        new PollPolicy(
            r.duration("challenge.poll.initial", Duration.ofMillis(1), Duration.ofMinutes(1)),
            r.duration("challenge.poll.max", Duration.ofMillis(1), Duration.ofHours(1)));
    String provider = r.string("challenge.dns.provider");
    Duration propagation =
        r.duration("challenge.dns.propagation.timeout", Duration.ofSeconds(1), Duration.ofHours(1));
    Optional<String> resolver = r.optional("challenge.dns.resolver");
    DnsProvider dns = DnsProvider.NONE;
    switch (provider) {
      case "none" -> {}
      case "challtestsrv" ->
          dns = new ChalltestsrvDnsProvider(r.uri("challenge.dns.challtestsrv.url"));
      case "rfc2136" -> {
        InetSocketAddress server = address(r, "challenge.dns.rfc2136.server");
        dns =
            new Rfc2136DnsProvider(
                server,
                r.string("challenge.dns.rfc2136.zone"),
                r.string("challenge.dns.rfc2136.tsig.algorithm"),
                r.optional("challenge.dns.rfc2136.tsig.name").orElse(null),
                r.optional("challenge.dns.rfc2136.tsig.secret").orElse(null),
                r.number("challenge.dns.ttl", 1, 86400),
                Duration.ofSeconds(10));
        if (resolver.isEmpty()) {
          resolver = Optional.of(server.getHostString() + ":" + server.getPort());
        }
      }
      default ->
          r.problem("challenge.dns.provider", provider, "must be none, challtestsrv or rfc2136");
    }
    Optional<TxtLookup> txt =
        resolver.map(a -> new TxtLookup(parseAddress(a), Duration.ofSeconds(5)));
    MetricsEndpoint.Address metricsAt = MetricsEndpoint.Address.read(r, "challenge");
    r.done();

    CaWorkers caWorkers = CaWorkers.create(ctx.profiles(), SERVICE);
    ExecutorService dnsWorkers = Executors.newCachedThreadPool(daemon("challenge-dns"));
    Publisher publisher = Publisher.create(ctx.kafka(), SERVICE);
    Http01Responses http01 =
        new Http01Responses(ctx.topics().http01Responses, publisher, ctx.kafka())
            .start(Duration.ofSeconds(60));
    Http01Responder responder = null;
    if (http01Enabled) {
      try {
        responder = Http01Responder.start(host, port, http01::get);
      } catch (IOException e) {
        http01.close();
        publisher.close();
        throw new UncheckedIOException(
            "cannot listen for HTTP-01 on " + host + ":" + port + ": " + e.getMessage(), e);
      }
    }
    URI selfCheckBase =
        URI.create(
            selfCheckUrl.orElse(
                "http://127.0.0.1:" + (responder == null ? port : responder.port())));
    CompactedStore<ChallengeRecord> records =
        new CompactedStore<>(ctx.topics().challengeRecords, publisher, ctx.kafka());
    ServiceMetrics metrics = new ServiceMetrics(SERVICE);
    metrics.inFlight("selfcheck.waiting", http01::waiting);
    if (responder != null) {
      Http01Responder served = responder;
      metrics.countedBy("http01.requests", served::served, "outcome", "served");
      metrics.countedBy("http01.requests", served::notFound, "outcome", "not_found");
    }
    ChallengeHandler handler =
        new ChallengeHandler(
            ctx.profiles(),
            new CaCalls(caWorkers.byProfile(), publisher, ctx.topics(), Clock.systemUTC(), metrics),
            new Acme4jAuthorizationGateway(ctx.sessions(), ctx.accounts()),
            records,
            new ChallengeResponses(
                http01,
                new SelfCheck(selfCheckBase, selfCheckTimeout, caWorkers.scheduler(), http01),
                dns,
                txt,
                propagation,
                dnsWorkers,
                caWorkers.scheduler()),
            publisher,
            ctx.topics(),
            Clock.systemUTC(),
            poll,
            metrics);
    ConsumerLoop<OrderPlaced> loop =
        new ConsumerLoop<>(
            SERVICE,
            ctx.groupMember(SERVICE),
            groupId,
            ctx.topics().orderPlaced,
            ctx.topics().orderPlacedDlq.name(),
            publisher,
            maxPending,
            new ConsumerLoop.Callbacks<>(
                handler::handle,
                partitions -> handler.resume(records.load(partitions)),
                partitions -> {
                  handler.cancel(partitions);
                  publisher.flush();
                  records.unload(partitions);
                },
                () -> metrics.count("records.dead.lettered")));
    MetricsEndpoint endpoint = MetricsEndpoint.startUnlessDisabled(metrics, metricsAt);
    loop.start();
    return new ChallengeServiceApp(
        loop, http01, responder, publisher, caWorkers, dnsWorkers, metrics, endpoint);
  }

  private static InetSocketAddress address(Settings.Reader r, String key) {
    String text = r.string(key);
    try {
      return parseAddress(text);
    } catch (IllegalArgumentException e) {
      r.problem(key, text, "must be host:port");
      return new InetSocketAddress("127.0.0.1", 53);
    }
  }

  static InetSocketAddress parseAddress(String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0) {
      return new InetSocketAddress(text, 53);
    }
    return new InetSocketAddress(
        text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return run -> {
      Thread t = new Thread(run, name);
      t.setDaemon(true);
      return t;
    };
  }

  public boolean ready() {
    return loop.ready();
  }

  public ServiceMetrics metrics() {
    return metrics;
  }

  /** Where the metrics are served, or empty when disabled. */
  public Optional<java.net.URI> metricsUri() {
    return Optional.ofNullable(endpoint).map(MetricsEndpoint::uri);
  }

  /** The HTTP-01 responder's port (when enabled). */
  public int http01Port() {
    return responder == null ? -1 : responder.port();
  }

  @Override
  public void close() {
    loop.close();
    // The producer closes before the CA workers: CA work still in flight when they stop can no
    // longer announce anything, so a shutdown never turns it into a RenewalFailed; its input is
    // not committed and is resumed after the restart.
    publisher.close();
    caWorkers.close();
    dnsWorkers.shutdownNow();
    if (responder != null) {
      responder.close();
    }
    http01.close();
    if (endpoint != null) {
      endpoint.close();
    }
  }
}
