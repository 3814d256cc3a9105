package dev.renewal.challenge.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

class Rfc2136DnsProviderTest {
  @Test
  void anAddIsAnUpdateOfTheZoneWithOneTxtValueInTheUpdateSection() {
    Rfc2136DnsProvider provider =
        new Rfc2136DnsProvider(
            new InetSocketAddress("127.0.0.1", 53),
            "example.com",
            "hmac-sha256",
            "renewal-key",
            "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0",
            60,
            Duration.ofSeconds(2));
    Message m = provider.addMessage("_acme-challenge.shop.example.com.", "digest-value");
    assertThat(m.getHeader().getOpcode()).isEqualTo(Opcode.UPDATE);
    assertThat(m.getQuestion().getName().toString()).isEqualTo("example.com.");
    assertThat(m.getQuestion().getType()).isEqualTo(Type.SOA);
    List<Record> updates = m.getSection(Section.UPDATE);
    assertThat(updates).hasSize(1);
    TXTRecord txt = (TXTRecord) updates.get(0);
    assertThat(txt.getName().toString()).isEqualTo("_acme-challenge.shop.example.com.");
    assertThat(txt.getStrings()).containsExactly("digest-value");
    assertThat(txt.getTTL()).isEqualTo(60);
  }
}
