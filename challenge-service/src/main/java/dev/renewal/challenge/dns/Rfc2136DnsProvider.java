package dev.renewal.challenge.dns;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Update;

/**
 * RFC 2136 dynamic update, signed with TSIG (RFC 8945), for real DNS servers (BIND, Knot, PowerDNS,
 * Windows DNS with secure updates off). Adds and deletes single TXT values, so the records of other
 * challenges for the same name stay.
 */
public final class Rfc2136DnsProvider implements DnsProvider {
  private final InetSocketAddress server;
  private final Name zone;
  private final TSIG tsig;
  private final long ttl;
  private final Duration timeout;

  /**
   * @param zone the zone to update, e.g. {@code example.com.}
   * @param tsigAlgorithm e.g. {@code hmac-sha256}; null with a null key for no TSIG
   * @param tsigKeyName the key's name as the server knows it
   * @param tsigSecret the key, base64
   */
  public Rfc2136DnsProvider(
      InetSocketAddress server,
      String zone,
      String tsigAlgorithm,
      String tsigKeyName,
      String tsigSecret,
      long ttl,
      Duration timeout) {
    this.server = server;
    this.zone = absolute(zone);
    this.tsig =
        tsigKeyName == null
            ? null
            : new TSIG(absolute(tsigAlgorithm), absolute(tsigKeyName), tsigSecret);
    this.ttl = ttl;
    this.timeout = timeout;
  }

  @Override
  public void present(String name, String value) {
    send(addMessage(name, value), "add " + name);
  }

  @Override
  public void cleanup(String name, String value) {
    Update update = new Update(zone);
    update.delete(new TXTRecord(absolute(name), DClass.IN, 0, value));
    send(update, "delete " + name);
  }

  /** The update message that adds {@code value} as a TXT record of {@code name}. */
  Message addMessage(String name, String value) {
    Update update = new Update(zone);
    update.add(new TXTRecord(absolute(name), DClass.IN, ttl, value));
    return update;
  }

  private void send(Message update, String what) {
    SimpleResolver resolver = new SimpleResolver(server);
    resolver.setTCP(true);
    resolver.setTimeout(timeout);
    if (tsig != null) {
      resolver.setTSIGKey(tsig);
    }
    try {
      Message response = resolver.send(update);
      int rcode = response.getRcode();
      if (rcode != Rcode.NOERROR) {
        throw new IllegalStateException(
            "DNS update (" + what + ") refused by " + server + ": " + Rcode.string(rcode));
      }
    } catch (IOException e) {
      throw new IllegalStateException(
          "DNS update (" + what + ") to " + server + " failed: " + e, e);
    }
  }

  private static Name absolute(String name) {
    try {
      return Name.fromString(name.endsWith(".") ? name : name + ".");
    } catch (TextParseException e) {
      throw new IllegalArgumentException("not a DNS name: " + name, e);
    }
  }
}
