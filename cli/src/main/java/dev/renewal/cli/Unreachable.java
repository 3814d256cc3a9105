package dev.renewal.cli;

/**
 * Something a command needs is not there: the Kafka broker, the schema registry, Pebble. Its
 * message is the one line printed (what is missing and what to do); the exit code is {@link #EXIT}.
 */
final class Unreachable extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The exit code of a command whose broker, registry or CA is not there. */
  static final int EXIT = 4;

  Unreachable(String message) {
    super(message);
  }
}
