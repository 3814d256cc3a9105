package dev.renewal.cli.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/** Heap and resident memory of this JVM (and of another process, from /proc). */
public final class ProcessMemory {
  private ProcessMemory() {}

  /** Forgets the heap pools' peaks, so that the next {@link #heapPeakBytes} covers a phase. */
  public static void resetHeapPeaks() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
  }

  /**
   * The sum of the heap pools' peak usage since the last reset: an upper bound of the heap in use
   * at any moment (each pool may have peaked at a different time).
   */
  public static long heapPeakBytes() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
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

  public static long selfPid() {
    return ProcessHandle.current().pid();
  }

  public static String mib(long bytes) {
    return bytes < 0 ? "n/a" : String.format("%d MiB", bytes / (1024 * 1024));
  }
}
