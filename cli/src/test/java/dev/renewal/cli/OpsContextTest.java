package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One line that says what is not there, before a command reads or publishes anything. */
class OpsContextTest {
  @Test
  void aRegistryThatAnswers404OrIsNotThereIsOneLineSayingWhatToCheck() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          exchange.sendResponseHeaders(404, -1);
          exchange.close();
        });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/wrong";
      assertThatThrownBy(() -> OpsContext.checkRegistry(url))
          .isInstanceOf(Unreachable.class)
          .hasMessage(
              "the schema registry at "
                  + url
                  + " answered HTTP 404 to GET "
                  + url
                  + "/subjects: is registry.url the registry's address (with its path prefix, if"
                  + " any)?");
    } finally {
      server.stop(0);
    }
    assertThatThrownBy(() -> OpsContext.checkRegistry("http://127.0.0.1:1"))
        .isInstanceOf(Unreachable.class)
        .hasMessageStartingWith("no schema registry answers at http://127.0.0.1:1 (")
        .hasMessageEndingWith("): `renewal stack` runs one; or set registry.url");
  }

  @Test
  void aBrokerThatIsNotThereIsOneLine() {
    assertThatThrownBy(
            () -> OpsContext.checkBroker(Map.of("bootstrap.servers", "127.0.0.1:1"), "127.0.0.1:1"))
        .isInstanceOf(Unreachable.class)
        .hasMessage(
            "no Kafka broker answers at 127.0.0.1:1 within 5 s: start one with `renewal stack`,"
                + " or set kafka.bootstrap.servers");
  }
}
