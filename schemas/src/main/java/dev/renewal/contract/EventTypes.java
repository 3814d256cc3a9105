package dev.renewal.contract;

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
import dev.renewal.events.ReconciliationInput;
import dev.renewal.events.ReconciliationState;
import dev.renewal.events.RenewalDue;
import dev.renewal.events.RenewalFailed;
import dev.renewal.events.RenewalInfoObserved;
import dev.renewal.events.RenewalRequested;
import dev.renewal.events.RequestStatus;
import dev.renewal.events.RevocationFailed;
import dev.renewal.events.RevocationRequested;
import dev.renewal.events.SchedulerInput;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/** Every event of the contract, in pipeline order. */
public final class EventTypes {
  /** The generated classes of every event. */
  public static final List<Class<? extends SpecificRecord>> ALL =
      List.of(
          RenewalRequested.class,
          OrderPlaced.class,
          ChallengeObserved.class,
          AuthorizationObserved.class,
          AuthorizationReconciled.class,
          CertificateIssued.class,
          RenewalFailed.class,
          RenewalDue.class,
          CertificateCommand.class,
          RenewalInfoObserved.class,
          RevocationRequested.class,
          CertificateRevoked.class,
          RevocationFailed.class);

  /** Internal state records kept on compacted topics (not events, but the same rules hold). */
  public static final List<Class<? extends SpecificRecord>> STATE =
      List.of(
          OrderRecord.class,
          ChallengeRecord.class,
          OrderReady.class,
          ReconciliationState.class,
          ReconciliationInput.class,
          FinalizeRecord.class,
          RequestStatus.class,
          ManagedCertificate.class,
          SchedulerInput.class);

  private EventTypes() {}

  /** The current schema of every event, with every named type it uses inlined. */
  public static List<Schema> schemas() {
    return ALL.stream().map(c -> SpecificData.get().getSchema(c)).toList();
  }

  /** Every schema under the compatibility rules: events and state records. */
  public static List<Schema> contract() {
    return java.util.stream.Stream.concat(ALL.stream(), STATE.stream())
        .map(c -> SpecificData.get().getSchema(c))
        .toList();
  }
}
