package dev.jlens.kernels.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

/** CUDA C to PTX at run time, through NVRTC ({@code libnvrtc.so}), for the GPU in hand. */
final class Nvrtc {
    private Nvrtc() {}

    static byte[] compile(String source, String name, String architecture) {
        Native nvrtc = Native.open("NVRTC, CUDA's run-time compiler", List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"));
        MethodHandle create = nvrtc.function("nvrtcCreateProgram", ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        MethodHandle compile = nvrtc.function("nvrtcCompileProgram", ADDRESS, JAVA_INT, ADDRESS);
        MethodHandle logSize = nvrtc.function("nvrtcGetProgramLogSize", ADDRESS, ADDRESS);
        MethodHandle log = nvrtc.function("nvrtcGetProgramLog", ADDRESS, ADDRESS);
        MethodHandle ptxSize = nvrtc.function("nvrtcGetPTXSize", ADDRESS, ADDRESS);
        MethodHandle ptx = nvrtc.function("nvrtcGetPTX", ADDRESS, ADDRESS);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment program = arena.allocate(ADDRESS);
            check("nvrtcCreateProgram", (int) create.invokeExact(program, arena.allocateFrom(source), arena.allocateFrom(name), 0,
                    MemorySegment.NULL, MemorySegment.NULL));
            MemorySegment p = program.get(ADDRESS, 0);
            String[] options = {"--gpu-architecture=" + architecture, "--std=c++17"};
            MemorySegment optionArray = arena.allocate(ADDRESS, options.length);
            for (int i = 0; i < options.length; i++) optionArray.setAtIndex(ADDRESS, i, arena.allocateFrom(options[i]));
            int status = (int) compile.invokeExact(p, options.length, optionArray);
            if (status != 0) {
                MemorySegment size = arena.allocate(JAVA_LONG);
                check("nvrtcGetProgramLogSize", (int) logSize.invokeExact(p, size));
                MemorySegment text = arena.allocate(size.get(JAVA_LONG, 0) + 1);
                check("nvrtcGetProgramLog", (int) log.invokeExact(p, text));
                throw new CudaException("NVRTC could not compile " + name + ":\n" + text.getString(0));
            }
            MemorySegment size = arena.allocate(JAVA_LONG);
            check("nvrtcGetPTXSize", (int) ptxSize.invokeExact(p, size));
            MemorySegment code = arena.allocate(size.get(JAVA_LONG, 0));
            check("nvrtcGetPTX", (int) ptx.invokeExact(p, code));
            return code.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("NVRTC failed: " + t);
        }
    }

    private static void check(String what, int status) {
        if (status != 0) throw new CudaException(what + " failed with NVRTC status " + status);
    }
}
