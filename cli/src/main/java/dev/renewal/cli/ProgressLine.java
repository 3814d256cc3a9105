package dev.renewal.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The progress of bulk work (publish, replay, renew --all-due) on standard error: on a terminal one
 * line rewritten in place at most ten times a second (done / total, share, rate, time left);
 * elsewhere (a pipe, a log) a plain line at every tenth of the work. {@link #done} ends it with the
 * totals either way.
 */
final class ProgressLine {
  private final String what;
  private final int total;
  private final PrintWriter err;
  private final boolean terminal;
  private final LongSupplier nanos;
  private final long started;
  private int done;
  private long shownAt;
  private int shownTenth;

  ProgressLine(String what, int total, PrintWriter err, boolean terminal, LongSupplier nanos) {
    this.what = what;
    this.total = total;
    this.err = err;
    this.terminal = terminal;
    this.nanos = nanos;
    this.started = nanos.getAsLong();
    this.shownAt = started - 100_000_000L;
  }

  /** For {@code total} items of work, on this process's standard error. */
  static ProgressLine of(String what, int total, PrintWriter err) {
    return new ProgressLine(what, total, err, System.console() != null, System::nanoTime);
  }

  /** One more item done. */
  synchronized void advance() {
    done++;
    long now = nanos.getAsLong();
    if (terminal) {
      if (now - shownAt >= 100_000_000L || done == total) {
        shownAt = now;
        err.print("\r" + line(now) + "   ");
        err.flush();
      }
      return;
    }
    int tenth = total == 0 ? 10 : (int) ((long) done * 10 / total);
    if (tenth > shownTenth && done < total) {
      shownTenth = tenth;
      err.println(line(now));
      err.flush();
    }
  }

  /** The end: the totals, on a line of their own. */
  synchronized void done() {
    long now = nanos.getAsLong();
    double seconds = (now - started) / 1e9;
    if (terminal) {
      err.print("\r");
    }
    err.printf(
        Locale.ROOT,
        "%s %,d of %,d in %.1f s (%,.0f/s)%n",
        what,
        done,
        total,
        seconds,
        seconds > 0 ? done / seconds : 0.0);
    err.flush();
  }

  /** "publishing 4,000 / 10,000 (40%), 2,150/s, about 3 s left". */
  String line(long now) {
    double seconds = Math.max(1e-9, (now - started) / 1e9);
    double rate = done / seconds;
    long left = rate > 0 ? Math.round((total - done) / rate) : -1;
    return String.format(
        Locale.ROOT,
        "%s %,d / %,d (%d%%), %,.0f/s, %s",
        what,
        done,
        total,
        total == 0 ? 100 : (int) ((long) done * 100 / total),
        rate,
        left < 0
            ? "time left unknown"
            : "about " + CertificatesCommand.human(java.time.Duration.ofSeconds(left)) + " left");
  }
}
