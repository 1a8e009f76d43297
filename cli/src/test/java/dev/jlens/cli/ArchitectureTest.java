package dev.jlens.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The layering of DESIGN.md, over the main classes of every module:
 * kernels ← engine ← models ← analysis ← experiments ← cli, with no package cycles, and with the
 * analysis toolkit and the notebooks computing only through the engine's Backend.
 */
class ArchitectureTest {
    private static final JavaClasses JLENS = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(location -> !location.contains("-tests.jar") && !location.contains("/test-classes/"))
            .importPackages("dev.jlens");

    @Test
    void modulesDependOnlyOnTheModulesBelowThem() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("kernels").definedBy("dev.jlens.kernels..")
                .layer("engine").definedBy("dev.jlens.engine..")
                .layer("models").definedBy("dev.jlens.models..")
                .layer("analysis").definedBy("dev.jlens.analysis..")
                .layer("experiments").definedBy("dev.jlens.experiments..")
                .layer("cli").definedBy("dev.jlens.cli..")
                .whereLayer("cli").mayNotBeAccessedByAnyLayer()
                .whereLayer("experiments").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("analysis").mayOnlyBeAccessedByLayers("experiments", "cli")
                .whereLayer("models").mayOnlyBeAccessedByLayers("analysis", "experiments", "cli")
                .whereLayer("engine").mayOnlyBeAccessedByLayers("models", "analysis", "experiments", "cli")
                .whereLayer("kernels").mayOnlyBeAccessedByLayers("engine", "models", "cli")
                .check(JLENS);
    }

    @Test
    void theToolkitAndTheNotebooksComputeThroughTheBackend() {
        noClasses().that().resideInAnyPackage("dev.jlens.analysis..", "dev.jlens.experiments..")
                .should().dependOnClassesThat().resideInAPackage("dev.jlens.kernels..")
                .because("a model on the GPU must be analysed on the GPU: kernels are reached through engine.Backend")
                .check(JLENS);
    }

    @Test
    void noPackageDependsOnItselfThroughOthers() {
        slices().matching("dev.jlens.(**)").should().beFreeOfCycles().check(JLENS);
    }
}
