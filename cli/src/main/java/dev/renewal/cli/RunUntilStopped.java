package dev.renewal.cli;

import java.util.concurrent.CountDownLatch;

/** Keeps a started service running until SIGTERM or Ctrl-C, then closes it cleanly. */
final class RunUntilStopped {
  private RunUntilStopped() {}

  static int run(String name, AutoCloseable service, String banner) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    service.close();
                  } catch (Exception e) {
                    System.err.println(name + ": error while stopping: " + e);
                  }
                  stopped.countDown();
                },
                name + "-shutdown"));
    System.err.println(banner);
    stopped.await();
    return 0;
  }
}
