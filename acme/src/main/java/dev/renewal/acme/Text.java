package dev.renewal.acme;

/** Text from outside (a CA's answer, a requested name) made safe for one log line. */
public final class Text {
  private Text() {}

  /**
   * {@code s} with control characters visible ({@code \\n}, {@code \\u0000}, ...) so that a value
   * cannot start a forged log line or hide in one; null as "null".
   */
  public static String escaped(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\\' -> b.append("\\\\");
        default -> {
          if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.toString();
  }
}
