package dev.renewal.acme;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TextTest {
  @Test
  void controlAndInvisibleCharactersBecomeVisibleSoNoValueForgesALogLine() {
    assertThat(Text.escaped("a.example\nX-Injected: 1")).isEqualTo("a.example\\nX-Injected: 1");
    assertThat(Text.escaped("nul\u0000here")).isEqualTo("nul\\u0000here");
    assertThat(Text.escaped("ex\u200bample.com")).isEqualTo("ex\\u200bample.com");
    assertThat(Text.escaped("tab\there\r")).isEqualTo("tab\\there\\r");
    assertThat(Text.escaped("back\\slash")).isEqualTo("back\\\\slash");
    assertThat(Text.escaped("bücher.example")).isEqualTo("bücher.example");
    assertThat(Text.escaped(null)).isEqualTo("null");
  }
}
