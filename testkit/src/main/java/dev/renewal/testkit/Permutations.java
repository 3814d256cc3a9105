package dev.renewal.testkit;

import java.util.ArrayList;
import java.util.List;

/** Every order of a few items, for the tests of rules that must not depend on arrival order. */
public final class Permutations {
  private Permutations() {}

  /** All {@code n!} orders of {@code items} (keep {@code n} small). */
  public static <T> List<List<T>> of(List<T> items) {
    if (items.isEmpty()) {
      return List.of(List.of());
    }
    List<List<T>> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      List<T> rest = new ArrayList<>(items);
      T first = rest.remove(i);
      for (List<T> p : of(rest)) {
        List<T> one = new ArrayList<>();
        one.add(first);
        one.addAll(p);
        out.add(one);
      }
    }
    return out;
  }
}
