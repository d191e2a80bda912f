package dev.weir;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** DESIGN.md's layering, kept by the build: each rule says why. */
class ArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.weir");
    }

    @Test
    void theNetworkLayerMovesBytesAndKnowsNoKafkaMessages() {
        noClasses().that().resideInAPackage("dev.weir.net..")
            .should().dependOnClassesThat().resideInAnyPackage("org.apache.kafka..", "dev.weir.log..",
                "dev.weir.metadata..", "dev.weir.storage..", "dev.weir.handler..", "dev.weir.topics..")
            .because("framing and back-pressure must not depend on what the frames mean").check(classes);
    }

    @Test
    void theProtocolLayerNeverReachesStorage() {
        noClasses().that().resideInAPackage("dev.weir.protocol..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.weir.storage..", "dev.weir.metadata..",
                "dev.weir.log..", "dev.weir.topics..", "dev.weir.handler..")
            .because("parsing and dispatch are the same whatever stores the data").check(classes);
    }

    @Test
    void theLogNeverSeesTheNetworkOrTheHandlers() {
        noClasses().that().resideInAnyPackage("dev.weir.log..", "dev.weir.storage..", "dev.weir.metadata..")
            .should().dependOnClassesThat().resideInAnyPackage("io.netty..", "dev.weir.net..", "dev.weir.protocol..",
                "dev.weir.handler..", "dev.weir.topics..", "dev.weir.server..")
            .because("storage is used by the handlers, never the other way round").check(classes);
    }

    @Test
    void backendsAreReachedOnlyThroughTheirInterfaces() {
        noClasses().that().resideOutsideOfPackages("dev.weir.server..", "dev.weir.storage.local..",
                "dev.weir.storage.s3..", "dev.weir.metadata.sqlite..", "dev.weir.metadata.postgres..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.weir.storage.local..", "dev.weir.storage.s3..",
                "dev.weir.metadata.sqlite..", "dev.weir.metadata.postgres..")
            .because("a new backend must be one new package, chosen at start-up").check(classes);
    }

    @Test
    void theSqlSharedByTheMetadataBackendsIsReachedOnlyThroughThem() {
        noClasses().that().resideOutsideOfPackages("dev.weir.metadata.jdbc..", "dev.weir.metadata.sqlite..",
                "dev.weir.metadata.postgres..")
            .should().dependOnClassesThat().resideInAPackage("dev.weir.metadata.jdbc..")
            .because("the broker sees the metadata store's role interfaces; the SQL behind them is the backends'")
            .check(classes);
    }

    @Test
    void fatalErrorHandlingDependsOnNoOtherPartOfWeir() {
        noClasses().that().resideInAPackage("dev.weir.runtime..")
            .should().dependOnClassesThat().resideOutsideOfPackages("dev.weir.runtime..", "java..", "org.slf4j..")
            .because("every layer may stop the process on a fatal error, so that code must need none of them")
            .check(classes);
    }

    @Test
    void theMetadataAndStorageLayersReturnTheirOwnOutcomesNotKafkaErrors() {
        noClasses().that().resideInAnyPackage("dev.weir.metadata..", "dev.weir.storage..")
            .should().dependOnClassesThat().resideInAnyPackage("org.apache.kafka.common.protocol..",
                "org.apache.kafka.common.errors..")
            .because("both shapes' backends answer in typed outcomes; Kafka's error codes are chosen in one place, at"
                + " the protocol edge (ErrorTranslator)").check(classes);
    }

    @Test
    void theStorageInterfacesDoNotKnowEachOther() {
        noClasses().that().resideInAPackage("dev.weir.storage..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.weir.metadata..", "dev.weir.log..")
            .check(classes);
    }

    @Test
    void theLogsPartsDependOneWay() {
        com.tngtech.archunit.library.Architectures.layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("cleaner").definedBy("dev.weir.log.cleaner..")
            .layer("log").definedBy("dev.weir.log")
            .layer("writing and reading").definedBy("dev.weir.log.append..", "dev.weir.log.read..",
                "dev.weir.log.recovery..")
            .layer("formats and checks").definedBy("dev.weir.log.format..", "dev.weir.log.batch..",
                "dev.weir.log.policy..")
            .whereLayer("cleaner").mayNotBeAccessedByAnyLayer()
            .whereLayer("log").mayOnlyBeAccessedByLayers("cleaner")
            .whereLayer("writing and reading").mayOnlyBeAccessedByLayers("cleaner", "log")
            .because("the cleaner works on the log, the log writes, reads and recovers through its parts, and"
                + " these share the formats and checks beneath them; none reaches back up").check(classes);
    }
}
