package dev.jlens.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CudaDriverTest {
    @Test
    void aMissingDriverIsReportedAsAReasonNotAnError() {
        CudaDriver.Probe probe = CudaDriver.probe("libcuda-that-is-not-here.so.1");
        assertFalse(probe.available());
        assertEquals("cannot load libcuda-that-is-not-here.so.1, the NVIDIA driver's library, so there is no usable NVIDIA GPU here", probe.problem());
    }

    @Test
    void theProbeOfThisMachineEitherNamesGpusOrSaysWhyThereAreNone() {
        CudaDriver.Probe probe = CudaDriver.probe();
        if (probe.available()) assertNull(probe.problem());
        else assertTrue(probe.devices().isEmpty() && !probe.problem().isBlank());
    }
}
