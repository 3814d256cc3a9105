package dev.renewal.local.bench;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.TreeMap;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * What the embedded broker (in this JVM) was asked to do: its own JMX counters of requests by type
 * and of records written by topic, read before and after a phase. Divided by the certificates of
 * the phase, they say what one certificate costs the broker.
 *
 * <p>The broker counts every fetch twice: under {@code Fetch} and again under {@code FetchConsumer}
 * or {@code FetchFollower} (kafka-server's {@code Request.updateRequestMetrics}). Those two are a
 * breakdown of {@code Fetch}, so they are left out of the counts here.
 */
public final class BrokerLoad {
  private static final String REQUESTS =
      "kafka.network:type=RequestMetrics,name=RequestsPerSec,request=*,*";

  /** The broker's breakdowns of {@code Fetch}, counted under {@code Fetch} too. */
  static final java.util.Set<String> FETCH_BREAKDOWNS =
      java.util.Set.of("FetchConsumer", "FetchFollower");

  private static final String RECORDS =
      "kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec,topic=*";

  /** Counts by request type ({@code Produce}, {@code Fetch}, ...) and by topic. */
  public record Snapshot(Map<String, Long> requests, Map<String, Long> records) {
    /** What happened between {@code before} and this snapshot. */
    public Snapshot since(Snapshot before) {
      return new Snapshot(minus(requests, before.requests), minus(records, before.records));
    }

    public long totalRequests() {
      return requests.values().stream().mapToLong(Long::longValue).sum();
    }

    public long totalRecords() {
      return records.values().stream().mapToLong(Long::longValue).sum();
    }

    private static Map<String, Long> minus(Map<String, Long> a, Map<String, Long> b) {
      Map<String, Long> out = new TreeMap<>();
      a.forEach(
          (k, v) -> {
            long d = v - b.getOrDefault(k, 0L);
            if (d > 0) {
              out.put(k, d);
            }
          });
      return out;
    }
  }

  private BrokerLoad() {}

  /** The counters now; empty when no broker runs in this JVM. */
  public static Snapshot now() {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    Map<String, Long> requests = sum(server, REQUESTS, "request");
    requests.keySet().removeAll(FETCH_BREAKDOWNS);
    return new Snapshot(requests, sum(server, RECORDS, "topic"));
  }

  private static Map<String, Long> sum(MBeanServer server, String pattern, String by) {
    Map<String, Long> out = new TreeMap<>();
    try {
      for (ObjectName name : server.queryNames(new ObjectName(pattern), null)) {
        Object count = server.getAttribute(name, "Count");
        if (count instanceof Number n) {
          out.merge(name.getKeyProperty(by), n.longValue(), Long::sum);
        }
      }
    } catch (JMException e) {
      throw new IllegalStateException("cannot read the broker's counters: " + e, e);
    }
    return out;
  }
}
