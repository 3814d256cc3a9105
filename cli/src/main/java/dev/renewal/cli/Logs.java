package dev.renewal.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * Where the {@code renewal} command's log lines go. A service ({@code order-service}, ..., {@code
 * stack}) logs on standard output, as operators expect of a service. Every other command prints on
 * the console only what it is for, and logs to a file: {@code <work dir>/logs/<command>.log}, or
 * the demo's run folder. {@code --verbose} puts the log lines on standard error as well. Levels:
 * ours INFO ({@code RENEWAL_LOG_LEVEL} changes it), Kafka's and every library's WARN.
 */
final class Logs {
  /** The commands that are services: their log is their output. */
  static final Set<String> SERVICES =
      Set.of(
          "order-service", "challenge-service", "finalize-service", "scheduler-service", "stack");

  private static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n";
  private static final String FILE_PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n";

  private static volatile Path file;
  private static volatile boolean verbose;
  private static volatile boolean configured;

  private Logs() {}

  /** The first argument that is not an option: the command's name, or empty. */
  static Optional<String> command(String[] args) {
    for (String a : args) {
      if (!a.startsWith("-")) {
        return Optional.of(a);
      }
    }
    return Optional.empty();
  }

  static boolean verbose(String[] args) {
    return List.of(args).contains("--verbose");
  }

  /** Configures logging for the command line {@code args}, before anything logs. */
  static void configure(String[] args) {
    configured = true;
    verbose = verbose(args);
    Optional<String> command = command(args);
    if (command.isEmpty() || SERVICES.contains(command.get())) {
      reset(null, true, System.out);
      return;
    }
    if (command.get().equals("demo")) {
      // Its log file is in its run folder, made when it starts (toFile).
      reset(null, verbose, System.err);
      return;
    }
    String workDir = Optional.ofNullable(System.getenv("RENEWAL_WORK_DIR")).orElse(".renewal");
    toFile(Path.of(workDir, "logs", command.get() + ".log"));
  }

  /** From now on, log lines go to {@code logFile} (and with --verbose to standard error). */
  static void toFile(Path logFile) {
    file = logFile;
    reset(logFile, verbose, System.err);
  }

  /** Whether {@link #configure} ran: the command runs from the command line, not in a test. */
  static boolean configured() {
    return configured;
  }

  /** The file the log lines go to, when they go to one. */
  static Optional<Path> file() {
    return Optional.ofNullable(file);
  }

  private static void reset(Path logFile, boolean console, java.io.PrintStream consoleStream) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
      return;
    }
    ctx.reset();
    Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.WARN);
    ctx.getLogger("dev.renewal")
        .setLevel(
            Level.toLevel(
                Optional.ofNullable(System.getenv("RENEWAL_LOG_LEVEL")).orElse("INFO"),
                Level.INFO));
    if (logFile != null) {
      FileAppender<ILoggingEvent> f = new FileAppender<>();
      f.setContext(ctx);
      f.setName("FILE");
      f.setFile(logFile.toString());
      f.setAppend(true);
      f.setEncoder(encoder(ctx, FILE_PATTERN));
      f.start();
      root.addAppender(f);
    }
    if (console) {
      ConsoleAppender<ILoggingEvent> c = new ConsoleAppender<>();
      c.setContext(ctx);
      c.setName("CONSOLE");
      c.setTarget(consoleStream == System.out ? "System.out" : "System.err");
      c.setEncoder(encoder(ctx, PATTERN));
      c.start();
      root.addAppender(c);
    }
  }

  private static PatternLayoutEncoder encoder(LoggerContext ctx, String pattern) {
    PatternLayoutEncoder e = new PatternLayoutEncoder();
    e.setContext(ctx);
    e.setPattern(pattern);
    e.start();
    return e;
  }
}
