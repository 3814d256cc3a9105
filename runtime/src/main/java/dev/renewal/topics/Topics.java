package dev.renewal.topics;

import dev.renewal.config.Settings;
import dev.renewal.events.AuthorizationObserved;
import dev.renewal.events.AuthorizationReconciled;
import dev.renewal.events.CertificateCommand;
import dev.renewal.events.CertificateIssued;
import dev.renewal.events.CertificateRevoked;
import dev.renewal.events.ChallengeObserved;
import dev.renewal.events.ChallengeRecord;
import dev.renewal.events.FinalizeRecord;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.OrderPlaced;
import dev.renewal.events.OrderReady;
import dev.renewal.events.OrderRecord;
import dev.renewal.events.RenewalDue;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalInfoObserved;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.RequestStatus;
import dev.renewal.events.RevocationFailed;
import dev.renewal.events.RevocationRequested;
import dev.renewal.serde.AvroSerdes;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Every topic of the pipeline (docs/design.md, docs/contract.md), built from configuration. Keys
 * are strings (the request id, the authorization URL, or the HTTP-01 token) so that they read
 * plainly in Kafka UI; values are Avro in the Confluent wire format, except the dead-letter topic
 * (the original bytes) and the HTTP-01 responses (the key authorization as text).
 */
public final class Topics {
  public static final String RENEWAL_REQUESTED = "renewal.requested";
  public static final String RENEWAL_REQUESTED_DLQ = "renewal.requested.dlq";
  public static final String ORDER_PLACED = "acme.order.placed";
  public static final String CHALLENGE_OBSERVED = "acme.challenge.observed";
  public static final String AUTHORIZATION_OBSERVED = "acme.authorization.observed";
  public static final String AUTHORIZATION_RECONCILED = "acme.authorization.reconciled";
  public static final String CERTIFICATE_ISSUED = "certificate.issued";
  public static final String RENEWAL_FAILED = "renewal.failed";
  public static final String HTTP01_RESPONSES = "acme.http01.responses";
  public static final String ORDER_RECORDS = "acme.order.records";
  public static final String ORDER_PLACED_DLQ = "acme.order.placed.dlq";
  public static final String CHALLENGE_RECORDS = "acme.challenge.records";
  public static final String ORDER_READY = "acme.order.ready";
  public static final String FINALIZE_RECORDS = "acme.finalize.records";
  public static final String ORDER_READY_DLQ = "acme.order.ready.dlq";
  public static final String STATUS = "renewal.status";
  public static final String STREAMS_DLQ = "acme.streams.dlq";
  public static final String INVENTORY = "certificate.inventory";
  public static final String DUE = "certificate.due";
  public static final String COMMANDS = "certificate.commands";
  public static final String RENEWAL_INFO = "certificate.renewal-info";
  public static final String REVOCATION_REQUESTED = "certificate.revocation.requested";
  public static final String REVOCATION_REQUESTED_DLQ = "certificate.revocation.requested.dlq";
  public static final String CERTIFICATE_REVOKED = "certificate.revoked";
  public static final String REVOCATION_FAILED = "certificate.revocation.failed";

  /** Defaults for the {@code topics.*} keys. */
  public static final Map<String, String> DEFAULTS =
      Map.of(
          "topics.prefix", "",
          "topics.partitions", "3",
          "topics.replication.factor", "1",
          "topics.retention.ms", String.valueOf(90L * 24 * 3600 * 1000));

  public final Topic<String, RenewalRequested> renewalRequested;
  public final Topic<byte[], byte[]> renewalRequestedDlq;
  public final Topic<String, OrderPlaced> orderPlaced;
  public final Topic<String, ChallengeObserved> challengeObserved;
  public final Topic<String, AuthorizationObserved> authorizationObserved;
  public final Topic<String, AuthorizationReconciled> authorizationReconciled;
  public final Topic<String, CertificateIssued> certificateIssued;
  public final Topic<String, RenewalFailed> renewalFailed;
  public final Topic<String, String> http01Responses;

  /**
   * order-service's records, keyed by request id: compacted, and co-partitioned with {@code
   * renewal.requested} (same key, same partition count) so that an instance owns the records of the
   * requests it consumes.
   */
  public final Topic<String, OrderRecord> orderRecords;

  /** Records of {@code acme.order.placed} that challenge-service cannot decode. */
  public final Topic<byte[], byte[]> orderPlacedDlq;

  /**
   * challenge-service's records, keyed by request id: compacted, co-partitioned with {@code
   * acme.order.placed}.
   */
  public final Topic<String, ChallengeRecord> challengeRecords;

  /** Orders whose authorizations are all valid, for finalize-service's finalization worker. */
  public final Topic<String, OrderReady> orderReady;

  /** finalize-service's finalization records, keyed by request id, compacted. */
  public final Topic<String, FinalizeRecord> finalizeRecords;

  /** Records of {@code acme.order.ready} that finalize-service cannot decode. */
  public final Topic<byte[], byte[]> orderReadyDlq;

  /** What finalize-service's Streams applications could not decode, from any of their inputs. */
  public final Topic<byte[], byte[]> streamsDlq;

  /**
   * Where each request stands now, keyed by request id, compacted: the materialized view kept by
   * finalize-service's Streams application, read by {@code renewal status --summary}.
   */
  public final Topic<String, RequestStatus> status;

  /**
   * The managed certificates, keyed by certificate name, compacted: scheduler-service's inventory
   * (docs/scheduler-service.md).
   */
  public final Topic<String, ManagedCertificate> inventory;

  /** Each renewal scheduler-service decided on, keyed by certificate name. */
  public final Topic<String, RenewalDue> due;

  /** Operators' commands about managed certificates (renew, unmanage), keyed by name. */
  public final Topic<String, CertificateCommand> commands;

  /**
   * Every renewal information (RFC 9773) scheduler-service fetched for a managed certificate, keyed
   * by certificate name.
   */
  public final Topic<String, RenewalInfoObserved> renewalInfo;

  /**
   * Revocations asked for (renewal revoke, or scheduler-service for a superseded certificate),
   * keyed by the request id that issued the certificate: co-partitioned with {@code
   * acme.finalize.records}, where finalize-service finds the certificate it recorded.
   */
  public final Topic<String, RevocationRequested> revocationRequested;

  /** Records of {@code certificate.revocation.requested} that finalize-service cannot decode. */
  public final Topic<byte[], byte[]> revocationRequestedDlq;

  /** Each revocation the CA confirmed, keyed by the request id that issued the certificate. */
  public final Topic<String, CertificateRevoked> certificateRevoked;

  /** Each revocation not carried out, with the reason, keyed like its request. */
  public final Topic<String, RevocationFailed> revocationFailed;

  private final String prefix;
  private final short replicationFactor;

  private Topics(TopicSettings s, AvroSerdes serdes) {
    this.prefix = s.prefix();
    this.replicationFactor = s.replicationFactor();
    Map<String, String> events =
        Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG,
            TopicConfig.CLEANUP_POLICY_DELETE,
            TopicConfig.RETENTION_MS_CONFIG,
            String.valueOf(s.retentionMs()));
    Map<String, String> compacted =
        Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
    Serde<String> keys = Serdes.String();
    int p = s.partitions();
    renewalRequested =
        new Topic<>(name(RENEWAL_REQUESTED), keys, serdes.value(RenewalRequested.class), p, events);
    renewalRequestedDlq =
        new Topic<>(name(RENEWAL_REQUESTED_DLQ), Serdes.ByteArray(), Serdes.ByteArray(), p, events);
    orderPlaced = new Topic<>(name(ORDER_PLACED), keys, serdes.value(OrderPlaced.class), p, events);
    challengeObserved =
        new Topic<>(
            name(CHALLENGE_OBSERVED), keys, serdes.value(ChallengeObserved.class), p, events);
    authorizationObserved =
        new Topic<>(
            name(AUTHORIZATION_OBSERVED),
            keys,
            serdes.value(AuthorizationObserved.class),
            p,
            events);
    authorizationReconciled =
        new Topic<>(
            name(AUTHORIZATION_RECONCILED),
            keys,
            serdes.value(AuthorizationReconciled.class),
            p,
            events);
    certificateIssued =
        new Topic<>(
            name(CERTIFICATE_ISSUED), keys, serdes.value(CertificateIssued.class), p, events);
    renewalFailed =
        new Topic<>(name(RENEWAL_FAILED), keys, serdes.value(RenewalFailed.class), p, events);
    http01Responses = new Topic<>(name(HTTP01_RESPONSES), keys, Serdes.String(), p, compacted);
    orderRecords =
        new Topic<>(name(ORDER_RECORDS), keys, serdes.value(OrderRecord.class), p, compacted);
    orderPlacedDlq =
        new Topic<>(name(ORDER_PLACED_DLQ), Serdes.ByteArray(), Serdes.ByteArray(), p, events);
    challengeRecords =
        new Topic<>(
            name(CHALLENGE_RECORDS), keys, serdes.value(ChallengeRecord.class), p, compacted);
    orderReady = new Topic<>(name(ORDER_READY), keys, serdes.value(OrderReady.class), p, events);
    finalizeRecords =
        new Topic<>(name(FINALIZE_RECORDS), keys, serdes.value(FinalizeRecord.class), p, compacted);
    orderReadyDlq =
        new Topic<>(name(ORDER_READY_DLQ), Serdes.ByteArray(), Serdes.ByteArray(), p, events);
    status = new Topic<>(name(STATUS), keys, serdes.value(RequestStatus.class), p, compacted);
    streamsDlq = new Topic<>(name(STREAMS_DLQ), Serdes.ByteArray(), Serdes.ByteArray(), p, events);
    inventory =
        new Topic<>(name(INVENTORY), keys, serdes.value(ManagedCertificate.class), p, compacted);
    due = new Topic<>(name(DUE), keys, serdes.value(RenewalDue.class), p, events);
    commands = new Topic<>(name(COMMANDS), keys, serdes.value(CertificateCommand.class), p, events);
    renewalInfo =
        new Topic<>(name(RENEWAL_INFO), keys, serdes.value(RenewalInfoObserved.class), p, events);
    revocationRequested =
        new Topic<>(
            name(REVOCATION_REQUESTED), keys, serdes.value(RevocationRequested.class), p, events);
    revocationRequestedDlq =
        new Topic<>(
            name(REVOCATION_REQUESTED_DLQ), Serdes.ByteArray(), Serdes.ByteArray(), p, events);
    certificateRevoked =
        new Topic<>(
            name(CERTIFICATE_REVOKED), keys, serdes.value(CertificateRevoked.class), p, events);
    revocationFailed =
        new Topic<>(name(REVOCATION_FAILED), keys, serdes.value(RevocationFailed.class), p, events);
  }

  /** The catalogue for these settings, with serdes from {@code serdes}. */
  public static Topics create(TopicSettings settings, AvroSerdes serdes) {
    return new Topics(settings, serdes);
  }

  /** Reads {@code topics.*} from {@code settings} (defaults in {@link #DEFAULTS}). */
  public static Topics create(Settings settings, AvroSerdes serdes) {
    return create(TopicSettings.from(settings), serdes);
  }

  /** The full name of the topic {@code base}, e.g. {@code renewal.requested}. */
  public String name(String base) {
    return prefix + base;
  }

  public short replicationFactor() {
    return replicationFactor;
  }

  /** Every dead-letter topic: what a service or Streams application could not decode, kept. */
  public List<Topic<byte[], byte[]>> deadLetters() {
    return List.of(
        renewalRequestedDlq, orderPlacedDlq, orderReadyDlq, streamsDlq, revocationRequestedDlq);
  }

  /** Every topic, in pipeline order. */
  public List<Topic<?, ?>> all() {
    return List.of(
        renewalRequested,
        renewalRequestedDlq,
        orderPlaced,
        challengeObserved,
        authorizationObserved,
        authorizationReconciled,
        certificateIssued,
        renewalFailed,
        http01Responses,
        orderRecords,
        orderPlacedDlq,
        challengeRecords,
        orderReady,
        finalizeRecords,
        orderReadyDlq,
        status,
        streamsDlq,
        inventory,
        due,
        commands,
        renewalInfo,
        revocationRequested,
        revocationRequestedDlq,
        certificateRevoked,
        revocationFailed);
  }
}
