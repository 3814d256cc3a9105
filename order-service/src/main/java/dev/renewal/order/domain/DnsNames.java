package dev.renewal.order.domain;

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
    String name = input.trim();
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    boolean wildcard = false;
    if (name.startsWith("*.")) {
      wildcard = true;
      name = name.substring(2);
    }
    if (name.contains(":")) {
      return Result.error("'" + input + "' is an IP address (only DNS names are ordered)");
    }
    if (name.contains("*")) {
      return Result.error("'" + input + "': '*' is allowed only as the whole first label");
    }
    String ascii;
    if (name.chars().allMatch(c -> c < 0x80)) {
      ascii = name.toLowerCase(Locale.ROOT);
    } else {
      try {
        ascii = IDN.toASCII(name, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
      } catch (IllegalArgumentException e) {
        return Result.error("'" + input + "' is not a valid DNS name (" + e.getMessage() + ")");
      }
    }
    Optional<String> problem = check(ascii);
    if (problem.isPresent()) {
      return Result.error("'" + input + "' " + problem.get());
    }
    String full = wildcard ? "*." + ascii : ascii;
    if (full.length() > 253) {
      return Result.error("'" + input + "' is longer than 253 characters");
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
    }
    if (labels[labels.length - 1].chars().allMatch(Character::isDigit)) {
      return Optional.of(
          "is an IP address or ends in a numeric label (only DNS names are ordered)");
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
