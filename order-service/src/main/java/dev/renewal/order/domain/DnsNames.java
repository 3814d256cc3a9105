package dev.renewal.order.domain;

import dev.renewal.acme.Text;
import java.net.IDN;
import java.util.Locale;
import java.util.Optional;

/**
 * DNS names as a CA accepts them (RFC 1035 section 2.3.1, RFC 5890 for IDNs, RFC 8555 section 7.1.3
 * for wildcards): letters, digits and hyphens, labels of 1 to 63 octets that neither start nor end
 * with a hyphen, at most 253 octets, at least two labels, a top-level label that is not all digits
 * (so no IP address), an optional leading {@code *.} label. Unicode names become punycode.
 */
public final class DnsNames {
  private DnsNames() {}

  /** A name in canonical form: lower-case ASCII (punycode), no trailing dot. */
  public record Normalized(String name, boolean wildcard) {}

  /**
   * Normalizes {@code input}, or returns why it is not a valid name.
   *
   * @return the normalized name, or the reason in {@code error}
   */
  public static Result normalize(String input) {
    if (input == null || input.isBlank()) {
      return Result.error("an empty name");
    }
    String shown = "'" + Text.escaped(input) + "'";
    Optional<String> hidden = invisible(input);
    if (hidden.isPresent()) {
      return Result.error(shown + " is not a valid DNS name: it contains " + hidden.get());
    }
    String name = input.trim();
    if (name.contains("://")) {
      return Result.error(shown + " is a URL: give the host name only (e.g. shop.example)");
    }
    if (name.contains("/")) {
      return Result.error(shown + " contains '/': give the host name only, without a path");
    }
    if (name.contains("@")) {
      return Result.error(shown + " contains '@': give the host name only, without a user");
    }
    if (name.matches("[^:]+:[0-9]+")) {
      return Result.error(
          shown
              + " has a port (':"
              + name.substring(name.indexOf(':') + 1)
              + "'): give the host"
              + " name only");
    }
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    boolean wildcard = false;
    if (name.startsWith("*.")) {
      wildcard = true;
      name = name.substring(2);
    }
    if (name.contains(":")) {
      return Result.error(shown + " is an IP address (only DNS names are ordered)");
    }
    if (name.contains("*")) {
      return Result.error(shown + ": '*' is allowed only as the whole first label");
    }
    String ascii;
    if (name.chars().allMatch(c -> c < 0x80)) {
      ascii = name.toLowerCase(Locale.ROOT);
    } else {
      try {
        ascii = IDN.toASCII(name, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
      } catch (IllegalArgumentException e) {
        return Result.error(
            shown + " is not a valid DNS name (" + Text.escaped(e.getMessage()) + ")");
      }
    }
    Optional<String> problem = check(ascii);
    if (problem.isPresent()) {
      return Result.error(shown + " " + problem.get());
    }
    String full = wildcard ? "*." + ascii : ascii;
    if (full.length() > 253) {
      return Result.error(shown + " is longer than 253 characters");
    }
    return new Result(new Normalized(full, wildcard), null);
  }

  private static Optional<String> check(String ascii) {
    if (ascii.isEmpty()) {
      return Optional.of("is empty");
    }
    String[] labels = ascii.split("\\.", -1);
    if (labels.length < 2) {
      return Optional.of("has a single label (a CA issues only for fully qualified names)");
    }
    for (String label : labels) {
      if (label.isEmpty()) {
        return Optional.of("has an empty label");
      }
      if (label.length() > 63) {
        return Optional.of("has a label longer than 63 characters");
      }
      if (label.startsWith("-") || label.endsWith("-")) {
        return Optional.of("has a label that starts or ends with '-'");
      }
      for (int i = 0; i < label.length(); i++) {
        char c = label.charAt(i);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
          return Optional.of("has a character that is not a letter, digit or '-': '" + c + "'");
        }
      }
      if (label.startsWith("xn--") && !roundTrips(label)) {
        // An A-label must be the punycode of a U-label (RFC 5890 section 2.3.2.1): one that does
        // not decode, or decodes to something that encodes otherwise, names nothing.
        return Optional.of("has an A-label that does not decode to a valid name: '" + label + "'");
      }
    }
    if (labels[labels.length - 1].chars().allMatch(Character::isDigit)) {
      return Optional.of(
          "is an IP address or ends in a numeric label (only DNS names are ordered)");
    }
    return Optional.empty();
  }

  private static boolean roundTrips(String aLabel) {
    String unicode = IDN.toUnicode(aLabel, IDN.USE_STD3_ASCII_RULES);
    if (unicode.equals(aLabel)) {
      return false;
    }
    try {
      return IDN.toASCII(unicode, IDN.USE_STD3_ASCII_RULES).equalsIgnoreCase(aLabel);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * The first control, invisible or bidirectional-control character of {@code s} (Unicode
   * categories Cc, Cf, Zl, Zp), named: a name that looks like another must not become a certificate
   * for the other (a zero-width space in {@code ex\u200bample.com} would otherwise be dropped by
   * IDNA's mapping and give {@code example.com}).
   */
  private static Optional<String> invisible(String s) {
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      int type = Character.getType(cp);
      if (type == Character.CONTROL
          || type == Character.FORMAT
          || type == Character.LINE_SEPARATOR
          || type == Character.PARAGRAPH_SEPARATOR) {
        String name = Character.getName(cp);
        return Optional.of(
            String.format(
                "the %s character U+%04X%s",
                type == Character.CONTROL ? "control" : "invisible",
                cp,
                name == null ? "" : " (" + name + ")"));
      }
      i += Character.charCount(cp);
    }
    return Optional.empty();
  }

  /** A normalized name, or the reason it is invalid. */
  public record Result(Normalized normalized, String error) {
    static Result error(String why) {
      return new Result(null, why);
    }

    public boolean ok() {
      return error == null;
    }
  }
}
