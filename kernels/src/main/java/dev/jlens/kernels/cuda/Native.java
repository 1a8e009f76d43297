package dev.jlens.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * One shared library of the CUDA toolkit opened through the FFM API, and its functions as method
 * handles. Device pointers travel as {@code long}s; host arrays as heap segments, which the calls
 * marked critical may read in place.
 */
final class Native {
    private final String name;
    private final SymbolLookup lookup;
    private final Linker linker = Linker.nativeLinker();

    private Native(String name, SymbolLookup lookup) {
        this.name = name;
        this.lookup = lookup;
    }

    /** The first of {@code candidates} that loads (e.g. CUDA 13's soname before CUDA 12's). */
    static Native open(String what, List<String> candidates) {
        for (String candidate : candidates) {
            try {
                return new Native(candidate, SymbolLookup.libraryLookup(candidate, Arena.global()));
            } catch (IllegalArgumentException notHere) {
                // try the next soname
            }
        }
        throw new CudaException("cannot load " + what + " (tried " + String.join(", ", candidates) + ")");
    }

    String name() {
        return name;
    }

    /** A function returning an int status. */
    MethodHandle function(String symbol, MemoryLayout... arguments) {
        return handle(symbol, FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, arguments), false);
    }

    /** As {@link #function}, allowed to read Java arrays in place: for calls that return at once. */
    MethodHandle criticalFunction(String symbol, MemoryLayout... arguments) {
        return handle(symbol, FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, arguments), true);
    }

    private MethodHandle handle(String symbol, FunctionDescriptor descriptor, boolean critical) {
        var address = lookup.find(symbol).orElseThrow(() -> new CudaException(name + " has no function " + symbol));
        return critical ? linker.downcallHandle(address, descriptor, Linker.Option.critical(true)) : linker.downcallHandle(address, descriptor);
    }
}
