package dev.renewal.local.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

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

  /** The heap in use now. */
  public static long heapUsedBytes() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
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
   * CPU time each of this JVM's JIT compiler threads ({@code C1/C2 CompilerThread*}) has used so
   * far, in nanoseconds, by thread id, from {@code /proc/self/task}; empty if unknown. (The JVM's
   * own compilation-time counter is wall time, which overstates on a busy machine.)
   */
  public static Map<String, Long> jitCpuNanosByThread() {
    Map<String, Long> byThread = new HashMap<>();
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          if (!Files.readString(task.resolve("comm")).contains("CompilerThre")) {
            continue;
          }
          String stat = Files.readString(task.resolve("stat"));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
          byThread.put(task.getFileName().toString(), ticks * 10_000_000L);
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      return Map.of();
    }
    return byThread;
  }

  /**
   * The JIT compiler threads' CPU between two {@link #jitCpuNanosByThread} snapshots: per thread,
   * what it used since {@code before} (all of it for a thread started since). HotSpot stops idle
   * compiler threads and starts new ones; what a thread used before it stopped is lost, so this is
   * a lower bound, never negative (a difference of totals was, once a thread had stopped).
   */
  public static long jitCpuNanosSince(Map<String, Long> before, Map<String, Long> after) {
    long nanos = 0;
    for (Map.Entry<String, Long> e : after.entrySet()) {
      nanos += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L));
    }
    return nanos;
  }

  public static long selfPid() {
    return ProcessHandle.current().pid();
  }

  public static String mib(long bytes) {
    return bytes < 0 ? "n/a" : String.format("%d MiB", bytes / (1024 * 1024));
  }
}
