package dev.renewal.challenge.dns;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * pebble-challtestsrv's management API ({@code POST /set-txt}, {@code POST /clear-txt}), the DNS
 * server Pebble resolves with in tests and the demo. It keeps one value per name, so two values for
 * one name (a wildcard and its base name in one order) are not supported by it.
 */
public final class ChalltestsrvDnsProvider implements DnsProvider {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final URI management;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public ChalltestsrvDnsProvider(URI management) {
    this.management = management;
  }

  @Override
  public void present(String name, String value) {
    manage("/set-txt", "{\"host\":" + quote(name) + ",\"value\":" + quote(value) + "}");
  }

  @Override
  public void cleanup(String name, String value) {
    manage("/clear-txt", "{\"host\":" + quote(name) + "}");
  }

  private static String quote(String s) {
    try {
      return JSON.writeValueAsString(s);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * POSTs {@code body} to challtestsrv's management API at {@code path} ({@code /set-txt}, {@code
   * /add-a}, {@code /set-servfail}, ...); fails unless it answers 200.
   */
  public void manage(String path, String body) {
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(management.resolve(path))
                  .timeout(Duration.ofSeconds(10))
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException(
            "challtestsrv " + path + " answered " + response.statusCode() + ": " + response.body());
      }
    } catch (IOException e) {
      throw new IllegalStateException("challtestsrv " + path + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
