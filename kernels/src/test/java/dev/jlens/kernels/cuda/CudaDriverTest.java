package dev.jlens.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIf;
import org.junit.jupiter.api.condition.EnabledIf;

class CudaDriverTest {
    @Test
    void aMissingDriverIsReportedAsAReasonNotAnError() {
        CudaDriver.Probe probe = CudaDriver.probe("libcuda-that-is-not-here.so.1");
        assertFalse(probe.available());
        assertEquals("cannot load libcuda-that-is-not-here.so.1, the NVIDIA driver's library, so there is no usable NVIDIA GPU here", probe.problem());
    }

    static boolean gpuPresent() {
        return CudaDriver.probe().available();
    }

    @Test
    @EnabledIf("gpuPresent")
    void aMachineWithAGpuHasEachDeviceNamedAndNoProblem() {
        CudaDriver.Probe probe = CudaDriver.probe();
        assertNull(probe.problem());
        assertFalse(probe.devices().isEmpty());
        for (String name : probe.devices()) assertFalse(name.isBlank(), "a device without a name");
    }

    @Test
    @DisabledIf("gpuPresent")
    void aMachineWithoutAGpuHasNoDevicesAndOneLineSayingWhy() {
        CudaDriver.Probe probe = CudaDriver.probe();
        assertTrue(probe.devices().isEmpty());
        assertTrue(!probe.problem().isBlank() && !probe.problem().contains("\n"), probe.problem());
        assertTrue(probe.problem().matches("(cannot load|the NVIDIA driver|asking the NVIDIA driver|libcuda).*"), probe.problem());
    }
}
