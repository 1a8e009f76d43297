package dev.jlens.cli;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Device;
import dev.jlens.engine.JlensException;
import dev.jlens.kernels.cuda.CudaDriver;
import picocli.CommandLine.Option;

/** {@code --device cpu|cuda} (default: JLENS_DEVICE, else cpu). */
final class DeviceOption {
    @Option(names = "--device", paramLabel = "DEVICE", description = "cpu or cuda (default: the JLENS_DEVICE variable, else cpu)")
    String device;

    /** The device to run on; CUDA only where a GPU answers, and one sentence otherwise. */
    Device select() {
        Device chosen = Device.choose(device, System.getenv());
        if (chosen == Device.CUDA) {
            CudaDriver.Probe probe = CudaDriver.probe();
            String source = device != null ? "--device cuda" : "JLENS_DEVICE=cuda";
            if (!probe.available()) throw new JlensException(source + ": " + probe.problem() + "; run on the CPU (--device cpu).");
            Backend.of(Device.CUDA); // starts the GPU now, so that a broken CUDA install is one sentence before any work
        }
        return chosen;
    }
}
