package dev.jlens.engine.hooks;

import dev.jlens.engine.JlensException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A model's hook points by name, in the order the forward pass reaches them. */
public final class HookPoints {
    private final Map<String, HookPoint> points = new LinkedHashMap<>();
    private boolean keepingForBackward;

    /** Creates and registers a hook point; names are unique. */
    public HookPoint register(String name) {
        HookPoint point = new HookPoint(name, this);
        if (points.putIfAbsent(name, point) != null) throw new IllegalStateException("hook point " + name + " registered twice");
        return point;
    }

    /**
     * Creates hook points under {@code names}, placed in the order right after {@code after} (a
     * spliced module's own points sit where the module runs); closing the handle removes them.
     */
    public HookHandle insertAfter(String after, List<HookPoint> created, String... names) {
        get(after);
        for (String name : names) if (points.containsKey(name)) throw new JlensException("hook point " + name + " exists already.");
        Map<String, HookPoint> reordered = new LinkedHashMap<>();
        for (Map.Entry<String, HookPoint> e : points.entrySet()) {
            reordered.put(e.getKey(), e.getValue());
            if (e.getKey().equals(after)) {
                for (String name : names) {
                    HookPoint point = new HookPoint(name, this);
                    reordered.put(name, point);
                    created.add(point);
                }
            }
        }
        points.clear();
        points.putAll(reordered);
        return () -> {
            for (String name : names) points.remove(name);
        };
    }

    /** Whether the forward pass running now keeps what backward needs (spliced modules ask). */
    public boolean keepingForBackward() {
        return keepingForBackward;
    }

    /** Set by the model at the start of each forward pass. */
    public void keepForBackward(boolean on) {
        keepingForBackward = on;
    }

    /** The hook point of that name, or a one-sentence error listing the closest names. */
    public HookPoint get(String name) {
        HookPoint point = points.get(name);
        if (point == null) {
            throw new JlensException("unknown hook point '" + name + "'; the closest are " + String.join(", ", closest(name, 3)) + ".");
        }
        return point;
    }

    public boolean contains(String name) {
        return points.containsKey(name);
    }

    public List<String> names() {
        return List.copyOf(points.keySet());
    }

    public List<HookPoint> select(NameFilter filter) {
        List<HookPoint> selected = new ArrayList<>();
        for (HookPoint point : points.values()) if (filter.test(point.name())) selected.add(point);
        return selected;
    }

    /** Hooks added through the scope are removed when it closes. */
    public HookScope scope() {
        return new HookScope(this);
    }

    /** The {@code count} names nearest to {@code name} by edit distance. */
    public List<String> closest(String name, int count) {
        return points.keySet().stream()
                .sorted(Comparator.comparingInt((String candidate) -> editDistance(name, candidate)).thenComparing(c -> c))
                .limit(count)
                .toList();
    }

    static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1], current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) previous[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
