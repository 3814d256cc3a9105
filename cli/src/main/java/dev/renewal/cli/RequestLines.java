package dev.renewal.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.KeyType;
import dev.renewal.events.RenewalRequested;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * Renewal requests from a file, one certificate a line: CSV ({@code
 * name,domains,challenge,ca,key_type}, domains separated by spaces or ';', a header line allowed)
 * or JSON Lines ({@code {"name","domains":[…],"challenge","ca","keyType","requestId"}}).
 */
final class RequestLines {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One parsed line: a request, or why it is not one. */
  record Line(int number, RenewalRequested request, String error) {}

  private RequestLines() {}

  static List<Line> read(Path file, String defaultCa) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    boolean jsonl =
        file.getFileName().toString().endsWith(".jsonl")
            || file.getFileName().toString().endsWith(".json");
    List<Line> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String text = lines.get(i).trim();
      int number = i + 1;
      if (text.isEmpty()
          || text.startsWith("#")
          || (!jsonl && number == 1 && text.toLowerCase(Locale.ROOT).startsWith("name,"))) {
        continue;
      }
      try {
        out.add(
            new Line(number, jsonl ? fromJson(text, defaultCa) : fromCsv(text, defaultCa), null));
      } catch (IllegalArgumentException | IOException e) {
        out.add(new Line(number, null, e.getMessage()));
      }
    }
    return out;
  }

  static RenewalRequested fromCsv(String line, String defaultCa) {
    String[] f = line.split(",", -1);
    if (f.length < 2) {
      throw new IllegalArgumentException("expected name,domains[,challenge,ca,key_type]");
    }
    return request(
        f[0].trim(),
        Arrays.stream(f[1].trim().split("[ ;]+")).filter(s -> !s.isEmpty()).toList(),
        f.length > 2 ? f[2].trim() : "",
        f.length > 3 ? f[3].trim() : "",
        f.length > 4 ? f[4].trim() : "",
        defaultCa,
        null);
  }

  static RenewalRequested fromJson(String line, String defaultCa) throws IOException {
    JsonNode n = JSON.readTree(line);
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    List<String> domains = new ArrayList<>();
    n.path("domains").forEach(d -> domains.add(d.asText()));
    return request(
        n.path("name").asText(""),
        domains,
        n.path("challenge").asText(""),
        n.path("ca").asText(""),
        n.path("keyType").asText(""),
        defaultCa,
        n.hasNonNull("requestId") ? n.get("requestId").asText() : null);
  }

  static RenewalRequested request(
      String name,
      List<String> domains,
      String challenge,
      String ca,
      String keyType,
      String defaultCa,
      String requestId) {
    if (name.isEmpty()) {
      throw new IllegalArgumentException("the certificate name is empty");
    }
    if (domains.isEmpty()) {
      throw new IllegalArgumentException("no domains");
    }
    String id = requestId == null ? UUID.randomUUID().toString() : requestId;
    return RenewalRequested.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setRequestId(id)
        .setOccurredAt(Instant.now())
        .setCertificateName(name)
        .setDnsNames(domains)
        .setChallengeType(challengeType(challenge))
        .setCaProfile(ca.isEmpty() ? defaultCa : ca)
        .setKeyType(keyType(keyType))
        .build();
  }

  static ChallengeType challengeType(String text) {
    return switch (text.toLowerCase(Locale.ROOT).replace('_', '-')) {
      case "", "http-01", "http" -> ChallengeType.HTTP_01;
      case "dns-01", "dns" -> ChallengeType.DNS_01;
      default ->
          throw new IllegalArgumentException(
              "unknown challenge type '" + text + "' (http-01, dns-01)");
    };
  }

  static KeyType keyType(String text) {
    return switch (text.toLowerCase(Locale.ROOT).replace('_', '-')) {
      case "", "ec-p256" -> KeyType.EC_P256;
      case "ec-p384" -> KeyType.EC_P384;
      case "rsa-2048" -> KeyType.RSA_2048;
      case "rsa-3072" -> KeyType.RSA_3072;
      case "rsa-4096" -> KeyType.RSA_4096;
      default ->
          throw new IllegalArgumentException(
              "unknown key type '" + text + "' (ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096)");
    };
  }
}
