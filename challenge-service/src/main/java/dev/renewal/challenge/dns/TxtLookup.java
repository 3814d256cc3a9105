package dev.renewal.challenge.dns;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * Asks one DNS server (the zone's authoritative server, or the resolver the CA will see) for the
 * TXT values of a name: a check that a DNS-01 record is visible before the challenge is triggered.
 */
public final class TxtLookup {
  private final InetSocketAddress server;
  private final Duration timeout;

  public TxtLookup(InetSocketAddress server, Duration timeout) {
    this.server = server;
    this.timeout = timeout;
  }

  /** The TXT values of {@code name} now (empty when there are none). Blocks: call on a worker. */
  public List<String> values(String name) {
    try {
      SimpleResolver resolver = new SimpleResolver(server);
      resolver.setTimeout(timeout);
      Message query =
          Message.newQuery(
              Record.newRecord(
                  Name.fromString(name.endsWith(".") ? name : name + "."), Type.TXT, DClass.IN));
      Message response = resolver.send(query);
      List<String> values = new ArrayList<>();
      if (response.getRcode() != Rcode.NOERROR) {
        return values;
      }
      for (Record r : response.getSection(Section.ANSWER)) {
        if (r instanceof TXTRecord txt) {
          values.add(String.join("", txt.getStrings()));
        }
      }
      return values;
    } catch (TextParseException e) {
      throw new IllegalArgumentException("not a DNS name: " + name, e);
    } catch (IOException e) {
      throw new IllegalStateException(
          "TXT lookup of " + name + " at " + server + " failed: " + e, e);
    }
  }
}
