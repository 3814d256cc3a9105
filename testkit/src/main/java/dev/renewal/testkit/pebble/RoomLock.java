package dev.renewal.testkit.pebble;

import java.util.concurrent.TimeUnit;

/**
 * A lock with two rooms: any number of holders may be in one room at once, never anyone in both.
 * Turns are fair: while someone waits for the other room, newcomers to the occupied room wait too,
 * and when the room empties every waiter of the other room goes in together. {@link PebbleGuard}
 * keeps Pebble's authorization reads out of the room where its store is read and written.
 */
final class RoomLock {
  enum Room {
    AUTHORIZATIONS,
    STORE;

    Room other() {
      return this == AUTHORIZATIONS ? STORE : AUTHORIZATIONS;
    }
  }

  private Room current;
  private int inside;
  private final int[] waiting = new int[2];
  private final int[] admitted = new int[2];

  /**
   * Enters {@code room}, waiting for the other one to empty; false if that took longer than {@code
   * timeout} (then nothing is held).
   */
  synchronized boolean enter(Room room, long timeout, TimeUnit unit) throws InterruptedException {
    int r = room.ordinal();
    int o = room.other().ordinal();
    if ((inside == 0 || current == room) && waiting[o] == 0 && admitted[o] == 0) {
      current = room;
      inside++;
      return true;
    }
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    waiting[r]++;
    try {
      while (admitted[r] == 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      admitted[r]--;
      current = room;
      inside++;
      return true;
    } finally {
      waiting[r]--;
      if (admitted[r] > waiting[r]) {
        // A waiter given its turn gave up instead: its place is not kept.
        admitted[r] = waiting[r];
      }
      if (inside == 0) {
        turn();
      }
    }
  }

  synchronized void leave() {
    if (inside <= 0) {
      throw new IllegalStateException("leave() without enter()");
    }
    inside--;
    if (inside == 0) {
      turn();
    }
  }

  /** With both rooms empty: the other room's waiters go in if there are any, else this room's. */
  private void turn() {
    if (admitted[0] > 0 || admitted[1] > 0) {
      return;
    }
    Room next = current == null ? Room.AUTHORIZATIONS : current.other();
    if (waiting[next.ordinal()] == 0) {
      next = next.other();
    }
    if (waiting[next.ordinal()] > 0) {
      current = next;
      admitted[next.ordinal()] = waiting[next.ordinal()];
      notifyAll();
    }
  }

  /** For tests: who is in, and in which room. */
  synchronized String state() {
    return current + " inside=" + inside;
  }
}
