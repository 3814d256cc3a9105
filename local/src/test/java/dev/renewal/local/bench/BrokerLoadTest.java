package dev.renewal.local.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The counters under the names and keys the broker registers them with. */
class BrokerLoadTest {
  public interface CounterMBean {
    long getCount();
  }

  public static final class Counter implements CounterMBean {
    private final long count;

    Counter(long count) {
      this.count = count;
    }

    @Override
    public long getCount() {
      return count;
    }
  }

  private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
  private final List<ObjectName> registered = new ArrayList<>();

  private void register(String name, long count) throws Exception {
    ObjectName n = new ObjectName(name);
    server.registerMBean(new Counter(count), n);
    registered.add(n);
  }

  @AfterEach
  void unregister() throws Exception {
    for (ObjectName n : registered) {
      server.unregisterMBean(n);
    }
  }

  @Test
  void aFetchIsCountedOnceThoughTheBrokerCountsItAgainAsAConsumersOrAFollowersFetch()
      throws Exception {
    String requests = "kafka.network:type=RequestMetrics,name=RequestsPerSec,";
    register(requests + "request=Fetch,version=17", 40);
    register(requests + "request=FetchConsumer,version=17", 30);
    register(requests + "request=FetchFollower,version=17", 10);
    register(requests + "request=Produce,version=11", 25);
    register(requests + "request=Produce,version=12", 5);
    register(
        "kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec,topic=renewal.requested", 7);

    BrokerLoad.Snapshot now = BrokerLoad.now();

    assertThat(now.requests()).containsEntry("Fetch", 40L).containsEntry("Produce", 30L);
    assertThat(now.requests()).doesNotContainKeys("FetchConsumer", "FetchFollower");
    assertThat(now.totalRequests()).isEqualTo(70);
    assertThat(now.records()).containsEntry("renewal.requested", 7L);
  }
}
