package dev.renewal.order.handler;

import dev.renewal.acme.AcmeFailure;
import dev.renewal.acme.CaCallFailure;
import dev.renewal.acme.CaCalls;
import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.acme.Text;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderRecord;
import dev.renewal.events.OrderRecordState;
import dev.renewal.events.Problem;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.Stage;
import dev.renewal.metrics.ServiceMetrics;
import dev.renewal.order.acme.AccountFailure;
import dev.renewal.order.acme.OrderGateway;
import dev.renewal.order.acme.PlacedOrder;
import dev.renewal.order.domain.RequestValidator;
import dev.renewal.topics.CompactedStore;
import dev.renewal.topics.Ownership;
import dev.renewal.topics.Publisher;
import dev.renewal.topics.Topics;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request from validation to {@code OrderPlaced} (or {@code RenewalFailed}), asynchronously:
 * every CA call runs through the profile's {@link Pacer}; waiting is rescheduling. The order URL is
 * recorded before {@code OrderPlaced} is emitted, so a crash in between resumes from the record
 * (re-reading the order) instead of creating a second order.
 */
public final class RequestHandler {
  private static final Logger LOGGER = LoggerFactory.getLogger(RequestHandler.class);

  private final CaProfiles profiles;
  private final CaCalls ca;
  private final OrderGateway gateway;
  private final CompactedStore<OrderRecord> records;
  private final Publisher publisher;
  private final Topics topics;
  private final RequestValidator validator;
  private final Clock clock;
  private final Map<String, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();

  /**
   * Which delivery owns each request here (a generation per delivery). A partition revoked drops
   * its requests: work still in flight for them records nothing and announces nothing from then on,
   * since the partition's next owner has read the records to their end and goes on from there.
   */
  private final Ownership owners;

  private final ServiceMetrics metrics;

  public RequestHandler(
      CaProfiles profiles,
      CaCalls ca,
      OrderGateway gateway,
      CompactedStore<OrderRecord> records,
      Publisher publisher,
      Topics topics,
      Clock clock,
      ServiceMetrics metrics) {
    this.profiles = profiles;
    this.ca = ca;
    this.gateway = gateway;
    this.records = records;
    this.owners = new Ownership(records::partitionOf);
    this.publisher = publisher;
    this.topics = topics;
    this.validator = new RequestValidator(profiles.names());
    this.clock = clock;
    this.metrics = metrics;
    metrics.inFlight("requests", inFlight::size);
  }

  /**
   * Handles {@code request} (published under {@code key}); completes when its outcome is on the
   * topics. A duplicate of a request in flight waits for it, then finds its record.
   */
  public CompletableFuture<Void> handle(String key, RenewalRequested request) {
    metrics.count("requests.received");
    String id = request.getRequestId();
    CompletableFuture<Void> mine = new CompletableFuture<>();
    java.util.concurrent.atomic.AtomicLong gen = new java.util.concurrent.atomic.AtomicLong();
    CompletableFuture<Void> before = inFlight.put(id, mine);
    CompletableFuture<Void> start =
        before == null ? CompletableFuture.completedFuture(null) : before.exceptionally(e -> null);
    start
        .thenCompose(
            v -> {
              // Owned from when this delivery's work begins (after a duplicate's, if any).
              gen.set(owners.own(id));
              return process(key, request, gen.get());
            })
        .whenComplete(
            (v, e) -> {
              inFlight.remove(id, mine);
              owners.release(id, gen.get());
              if (e != null) {
                mine.completeExceptionally(e);
              } else {
                mine.complete(null);
              }
            });
    return mine;
  }

  /** Stops the work of requests in partitions this instance no longer owns. */
  public void cancel(java.util.Collection<Integer> partitions) {
    owners.revoke(partitions);
  }

  /** Completes when delivery {@code gen} still owns {@code id}, else fails: nothing more to do. */
  private CompletableFuture<Void> stillOwned(String id, long gen) {
    if (owners.owns(id, gen)) {
      return CompletableFuture.completedFuture(null);
    }
    LOGGER.info("request moved to another instance, its work here stops: requestId={}", id);
    return CompletableFuture.failedFuture(
        new java.util.concurrent.CancellationException("request " + id + " moved away"));
  }

  private CompletableFuture<Void> process(String key, RenewalRequested raw, long gen) {
    RequestValidator.Outcome outcome = validator.validate(raw, key);
    if (!outcome.valid()) {
      LOGGER.info(
          "request invalid: requestId={} problem={} detail={}",
          Text.escaped(raw.getRequestId()),
          outcome.problemType(),
          outcome.detail());
      Problem problem =
          Problem.newBuilder()
              .setType(outcome.problemType())
              .setTitle("invalid renewal request")
              .setDetail(outcome.detail())
              .build();
      return fail(raw, Stage.REQUEST_VALIDATION, problem, false, null, raw.getCaProfile(), gen);
    }
    RenewalRequested request = outcome.request();
    CaProfile profile = profiles.get(request.getCaProfile()).orElseThrow();
    Optional<OrderRecord> record = records.get(request.getRequestId());
    if (record.isPresent() && record.get().getAttempt() >= request.getAttempt()) {
      OrderRecord r = record.get();
      if (r.getAttempt() > request.getAttempt()
          || r.getState() == OrderRecordState.EMITTED
          || r.getState() == OrderRecordState.FAILED) {
        metrics.count("requests.duplicate");
        LOGGER.info(
            "request already handled, nothing to do: requestId={} attempt={} state={} order={}",
            request.getRequestId(),
            request.getAttempt(),
            r.getState(),
            r.getOrderUrl());
        return CompletableFuture.completedFuture(null);
      }
      if (r.getState() == OrderRecordState.PLACED && r.getOrderUrl() != null) {
        LOGGER.info(
            "resuming from the recorded order: requestId={} order={}",
            request.getRequestId(),
            r.getOrderUrl());
        return withRetries(profile, () -> gateway.fetch(profile, r.getOrderUrl()))
            .thenCompose(result -> afterCa(request, raw, profile, result, true, gen));
      }
    }
    Optional<String> replaces = Optional.ofNullable(request.getReplaces());
    return withRetries(profile, () -> gateway.place(profile, request.getDnsNames(), replaces))
        .thenCompose(result -> afterCa(request, raw, profile, result, false, gen));
  }

  private CompletableFuture<Void> afterCa(
      RenewalRequested request,
      RenewalRequested raw,
      CaProfile profile,
      CaResult result,
      boolean resumed,
      long gen) {
    if (result.failure() != null) {
      return fail(
          raw,
          result.stage(),
          result.failure().problem(),
          result.failure().kind().retryable(),
          null,
          profile.name(),
          gen);
    }
    PlacedOrder order = result.order();
    OrderRecord placed = record(request, profile, OrderRecordState.PLACED, order);
    String id = request.getRequestId();
    // Each write first checks that this delivery still owns the request: after a revocation the
    // next owner has read the records to their end; a late write here would be one it never saw
    // (it would place a second order for the request).
    CompletableFuture<Void> recorded =
        resumed
            ? stillOwned(id, gen)
            : stillOwned(id, gen).thenCompose(v -> records.put(placed.getRequestId(), placed));
    return recorded
        .thenCompose(v -> stillOwned(id, gen))
        .thenCompose(v -> publisher.send(topics.orderPlaced, id, placed(request, order, resumed)))
        .thenCompose(v -> stillOwned(id, gen))
        .thenCompose(
            v -> records.put(id, record(request, profile, OrderRecordState.EMITTED, order)))
        .thenRun(
            () -> {
              metrics.count("orders.placed");
              if (resumed) {
                metrics.count("orders.resumed");
              }
              metrics.stageLatency("order", request.getOccurredAt(), clock.instant());
              LOGGER.info(
                  "order placed: requestId={} order={} authorizations={} status={} resumed={}",
                  request.getRequestId(),
                  order.orderUrl(),
                  order.authorizationUrls().size(),
                  order.status(),
                  resumed);
            });
  }

  /** The failure event, then the record that the request failed (a duplicate does nothing). */
  private CompletableFuture<Void> fail(
      RenewalRequested raw,
      Stage stage,
      Problem problem,
      boolean retryable,
      String orderUrl,
      String caProfile,
      long gen) {
    OrderRecord record =
        OrderRecord.newBuilder()
            .setRequestId(raw.getRequestId())
            .setAttempt(raw.getAttempt())
            .setState(OrderRecordState.FAILED)
            .setCaProfile(String.valueOf(caProfile))
            .setOrderUrl(orderUrl)
            .setUpdatedAt(clock.instant())
            .build();
    return stillOwned(raw.getRequestId(), gen)
        .thenCompose(v -> ca.fail(raw, stage, problem, retryable, orderUrl, null))
        .thenCompose(v -> records.put(record.getRequestId(), record));
  }

  /** The CA's answer: an order, or a classified failure and the stage it happened at. */
  private record CaResult(PlacedOrder order, AcmeFailure failure, Stage stage) {}

  private CompletableFuture<CaResult> withRetries(CaProfile profile, Supplier<PlacedOrder> call) {
    return ca.call(profile, call)
        .handle(
            (order, error) -> {
              if (error == null) {
                return new CaResult(order, null, null);
              }
              CaCallFailure failure = CaCallFailure.of(error);
              if (!(failure.getCause() instanceof AccountFailure)) {
                return new CaResult(null, failure.failure(), Stage.ORDER);
              }
              // Said with the profile: an operator fixes the profile's account settings (an
              // external account binding's key, the terms), not the request.
              AcmeFailure f = failure.failure();
              dev.renewal.events.Problem named =
                  dev.renewal.events.Problem.newBuilder(f.problem())
                      .setDetail(
                          "CA profile '"
                              + profile.name()
                              + "': its ACME account could not be created or used: "
                              + f.problem().getDetail())
                      .build();
              return new CaResult(
                  null, new AcmeFailure(f.kind(), f.retryAfter(), named), Stage.ACCOUNT);
            });
  }

  private OrderRecord record(
      RenewalRequested request, CaProfile profile, OrderRecordState state, PlacedOrder order) {
    return OrderRecord.newBuilder()
        .setRequestId(request.getRequestId())
        .setAttempt(request.getAttempt())
        .setState(state)
        .setCaProfile(profile.name())
        .setAccountUrl(order.accountUrl())
        .setOrderUrl(order.orderUrl())
        .setUpdatedAt(clock.instant())
        .build();
  }

  private OrderPlaced placed(RenewalRequested request, PlacedOrder order, boolean resumed) {
    return OrderPlaced.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(request.getRequestId())
        .setOccurredAt(clock.instant())
        .setRequest(request)
        .setAccountUrl(order.accountUrl())
        .setOrderUrl(order.orderUrl())
        .setFinalizeUrl(order.finalizeUrl())
        .setAuthorizationUrls(order.authorizationUrls())
        .setOrderStatus(order.status())
        .setRawStatus(order.rawStatus().orElse(null))
        .setExpires(order.expires().orElse(null))
        .setResumed(resumed)
        .build();
  }
}
