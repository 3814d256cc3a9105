package dev.renewal.challenge.http01;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

class KeyAuthorizationsTest {
  @Test
  void aWaiterCompletesWhenItsValueIsReadNotForAnotherValue() {
    KeyAuthorizations tokens = new KeyAuthorizations();
    CompletableFuture<Void> read = tokens.whenRead("tok", "tok.right");
    tokens.put("tok", "tok.wrong");
    assertThat(read).isNotDone();
    tokens.put("tok", "tok.right");
    assertThat(read).isDone();
    assertThat(tokens.get("tok")).contains("tok.right");
    assertThat(tokens.whenRead("tok", "tok.right")).as("already read").isDone();
    assertThat(tokens.waiting()).isZero();
  }

  @Test
  void aForgottenWaiterIsGoneAndARemovedTokenIsNotServed() {
    KeyAuthorizations tokens = new KeyAuthorizations();
    CompletableFuture<Void> read = tokens.whenRead("tok", "v");
    tokens.forget("tok", read);
    assertThat(tokens.waiting()).isZero();
    tokens.put("tok", "v");
    assertThat(read).isNotDone();
    tokens.remove("tok");
    assertThat(tokens.get("tok")).isEmpty();
  }

  /**
   * The reader thread stores tokens while other threads wait for them, each pair started together:
   * no waiter may be lost between a registration and a wake (the first version lost two of 10,000
   * in a scale run; this test failed against it).
   */
  @Test
  void noWaiterIsLostWhenTheTokenIsReadWhileItRegisters() throws Exception {
    KeyAuthorizations tokens = new KeyAuthorizations();
    int n = 20_000;
    List<CompletableFuture<Void>> waits = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      waits.add(null);
    }
    CyclicBarrier together = new CyclicBarrier(3);
    Thread reader =
        new Thread(
            () -> {
              for (int i = 0; i < n; i++) {
                await(together);
                tokens.put("t" + i, "v" + i);
              }
            });
    Thread first =
        new Thread(
            () -> {
              for (int i = 0; i < n; i++) {
                await(together);
                waits.set(i, tokens.whenRead("t" + i, "v" + i));
              }
            });
    reader.start();
    first.start();
    // A second waiter for every token, on this thread, so that two registrations and a wake race.
    List<CompletableFuture<Void>> second = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      await(together);
      second.add(tokens.whenRead("t" + i, "v" + i));
    }
    reader.join(Duration.ofSeconds(60).toMillis());
    first.join(Duration.ofSeconds(60).toMillis());
    long lost =
        waits.stream().filter(f -> !f.isDone()).count()
            + second.stream().filter(f -> !f.isDone()).count();
    assertThat(lost).isZero();
    assertThat(tokens.waiting()).isZero();
  }

  private static void await(CyclicBarrier barrier) {
    try {
      barrier.await();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
