package org.uringsync.jmh;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.Execute;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;
import org.apache.maven.plugins.annotations.ResolutionScope;
import org.apache.maven.project.MavenProject;

/**
 * {@code mvn -pl benchmarks jmh:run [-Djmh.args="..."]}: compiles the module (so JMH's annotation
 * processor has written its benchmark list), then runs {@code org.openjdk.jmh.Main} in a forked JVM
 * with the module's test class path and prints JMH's table. {@code jmh.args} is passed to JMH as is
 * (a benchmark filter, {@code -f 1 -wi 2 -i 3}, {@code -p size=4K}, {@code -prof gc}, ...).
 */
@Mojo(name = "run", requiresDependencyResolution = ResolutionScope.TEST, threadSafe = true)
@Execute(phase = LifecyclePhase.TEST_COMPILE)
public class RunMojo extends AbstractMojo {
    @Parameter(defaultValue = "${project}", readonly = true, required = true)
    private MavenProject project;

    /** Arguments for org.openjdk.jmh.Main, split on whitespace. */
    @Parameter(property = "jmh.args", defaultValue = "")
    private String args;

    /** Extra options for the forked JVM that runs JMH's main (JMH forks benchmark JVMs itself). */
    @Parameter(property = "jmh.jvmArgs", defaultValue = "")
    private String jvmArgs;

    private static String[] words(String s) {
        return s == null || s.isBlank() ? new String[0] : s.trim().split("\\s+");
    }

    @Override
    public void execute() throws MojoExecutionException, MojoFailureException {
        List<String> cp;
        try {
            cp = project.getTestClasspathElements();
        } catch (Exception e) {
            throw new MojoExecutionException("cannot resolve the benchmark class path", e);
        }
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        for (String a : words(jvmArgs)) {
            if (!a.isEmpty()) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(String.join(File.pathSeparator, cp));
        cmd.add("org.openjdk.jmh.Main");
        for (String a : words(args)) {
            if (!a.isEmpty()) {
                cmd.add(a);
            }
        }
        getLog().info("jmh:run: " + String.join(" ", cmd.subList(cmd.indexOf("org.openjdk.jmh.Main"), cmd.size())));
        try {
            Process p = new ProcessBuilder(cmd).inheritIO().start();
            int rc = p.waitFor();
            if (rc != 0) {
                throw new MojoFailureException("JMH exited with status " + rc);
            }
        } catch (java.io.IOException e) {
            throw new MojoExecutionException("cannot start " + java, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MojoExecutionException("interrupted", e);
        }
    }
}
