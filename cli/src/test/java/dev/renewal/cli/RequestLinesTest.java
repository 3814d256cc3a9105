package dev.renewal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.events.ChallengeType;
import dev.renewal.events.KeyType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RequestLinesTest {
  @TempDir Path dir;

  @Test
  void csvWithAHeaderCommentsAndBadLinesGivesLineNumberedErrors() throws Exception {
    Path f = dir.resolve("requests.csv");
    Files.writeString(
        f,
        "name,domains,challenge,ca,key_type\n"
            + "shop,shop.example www.shop.example,http-01,,ec-p384\n"
            + "# a comment\n"
            + "api,api.example;v2.api.example,dns-01,le,rsa-2048\n"
            + "broken\n"
            + "odd,odd.example,carrier-pigeon\n");
    List<RequestLines.Line> lines = RequestLines.read(f, "default");
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0).request().getDnsNames())
        .containsExactly("shop.example", "www.shop.example");
    assertThat(lines.get(0).request().getKeyType()).isEqualTo(KeyType.EC_P384);
    assertThat(lines.get(0).request().getCaProfile()).isEqualTo("default");
    assertThat(lines.get(1).request().getChallengeType()).isEqualTo(ChallengeType.DNS_01);
    assertThat(lines.get(1).request().getCaProfile()).isEqualTo("le");
    assertThat(lines.get(2).number()).isEqualTo(5);
    assertThat(lines.get(2).error()).contains("expected name,domains");
    assertThat(lines.get(3).number()).isEqualTo(6);
    assertThat(lines.get(3).error()).contains("unknown challenge type 'carrier-pigeon'");
  }

  @Test
  void jsonLinesKeepAGivenRequestId() throws Exception {
    Path f = dir.resolve("requests.jsonl");
    Files.writeString(
        f,
        "{\"name\":\"a\",\"domains\":[\"a.example\"],\"requestId\":\"11111111-2222-4333-8444-555555555555\"}\n"
            + "not json\n");
    List<RequestLines.Line> lines = RequestLines.read(f, "pebble");
    assertThat(lines.get(0).request().getRequestId())
        .isEqualTo("11111111-2222-4333-8444-555555555555");
    assertThat(lines.get(0).request().getCaProfile()).isEqualTo("pebble");
    assertThat(lines.get(1).error()).isNotNull();
  }
}
