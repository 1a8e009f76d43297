package dev.jlens.engine.hooks;

import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/** Chooses hook points by name: one filter type for caching and for hooking, as in TransformerLens. */
@FunctionalInterface
public interface NameFilter extends Predicate<String> {
    static NameFilter all() {
        return name -> true;
    }

    static NameFilter exactly(String... names) {
        Set<String> set = Set.of(names);
        return set::contains;
    }

    /** Names the regular expression matches in full. */
    static NameFilter regex(String regex) {
        Pattern pattern = Pattern.compile(regex);
        return name -> pattern.matcher(name).matches();
    }

    /** Names ending in one of the suffixes, e.g. {@code "hook_z"} for every layer's z. */
    static NameFilter endingWith(String... suffixes) {
        return name -> {
            for (String suffix : suffixes) if (name.endsWith(suffix)) return true;
            return false;
        };
    }
}
