package io.slsemu.javatest.common;

import picocli.CommandLine.Option;

/**
 * The options a program reaches SLS with, as a picocli mixin: {@code @Mixin Connection}.
 *
 * <p>How the endpoint is reached differs by program (proxy, port 80...): a command says so in
 * its resource bundle under the key {@code endpoint}, which replaces the description below.
 */
public class Connection {

    @Option(names = "--endpoint", required = true, descriptionKey = "endpoint",
            description = "Bare host name, e.g. localhost.")
    public String endpoint;

    @Option(names = "--access-key-id", required = true)
    public String accessKeyId;

    @Option(names = "--access-key-secret", required = true)
    public String accessKeySecret;

    /** Also --project and --logstore: for the programs that work in an existing logstore. */
    public static class Logstore extends Connection {

        @Option(names = "--project", required = true)
        public String project;

        @Option(names = "--logstore", required = true)
        public String logstore;
    }
}
