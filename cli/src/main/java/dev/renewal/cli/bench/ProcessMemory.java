package dev.renewal.cli.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** Heap and resident memory of this JVM (and of another process, from /proc). */
public final class ProcessMemory {
  private ProcessMemory() {}

  /**
   * Forgets the peak seen so far (and starts sampling), so that the next {@link #heapPeakBytes}
   * covers a phase.
   */
  public static void resetHeapPeaks() {
    startSampling();
    PEAK.set(0);
  }

  private static final java.util.concurrent.atomic.AtomicLong PEAK =
      new java.util.concurrent.atomic.AtomicLong();
  private static volatile boolean sampling;

  /**
   * The largest heap in use seen since the last reset, sampled every 20 ms (the sum of the pools'
   * own peaks would overstate it: each pool peaks at a different moment).
   */
  public static long heapPeakBytes() {
    sample();
    return PEAK.get();
  }

  private static void sample() {
    PEAK.accumulateAndGet(
        ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
  }

  private static synchronized void startSampling() {
    if (sampling) {
      return;
    }
    sampling = true;
    Thread t =
        new Thread(
            () -> {
              while (true) {
                sample();
                try {
                  Thread.sleep(20);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "bench-heap-sampler");
    t.setDaemon(true);
    t.start();
  }

  public static long heapMaxBytes() {
    return Runtime.getRuntime().maxMemory();
  }

  /** {@code VmRSS} (or {@code VmHWM}, the peak) of process {@code pid} in bytes; -1 if unknown. */
  public static long rssBytes(long pid, boolean peak) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith(peak ? "VmHWM:" : "VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  /**
   * CPU time (user + system) process {@code pid} has used so far, in nanoseconds; -1 if unknown.
   */
  public static long cpuNanos(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      return ticks * 10_000_000L; // USER_HZ is 100 on Linux
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * CPU time this JVM's JIT compiler threads ({@code C1/C2 CompilerThread*}) have used so far, in
   * nanoseconds, from {@code /proc/self/task}; -1 if unknown. (The JVM's own compilation-time
   * counter is wall time, which overstates on a busy machine.)
   */
  public static long jitCpuNanos() {
    long ticks = 0;
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          if (!Files.readString(task.resolve("comm")).contains("CompilerThre")) {
            continue;
          }
          String stat = Files.readString(task.resolve("stat"));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return ticks * 10_000_000L;
  }

  public static long selfPid() {
    return ProcessHandle.current().pid();
  }

  public static String mib(long bytes) {
    return bytes < 0 ? "n/a" : String.format("%d MiB", bytes / (1024 * 1024));
  }
}
