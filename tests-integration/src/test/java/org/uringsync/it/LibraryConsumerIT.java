package org.uringsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.CopyResult;
import org.uringsync.LocalCopy;
import org.uringsync.nativeio.NativeLoader;

/** The jar used the way another JVM project uses it: a Maven dependency and nothing else. */
class LibraryConsumerIT {
    @TempDir
    Path tmp;

    @Test
    void theDependencyCopiesWithNoNativeSetup() throws Exception {
        assertNull(System.getProperty(NativeLoader.PATH_PROPERTY), "no pre-installed library is named");
        Path src = Files.createDirectories(tmp.resolve("src/sub"));
        Files.writeString(src.resolve("hello.txt"), "hello");
        CopyResult r = LocalCopy.builder().preserve(true).build().copy(tmp.resolve("src"), tmp.resolve("dst"));
        assertTrue(r.succeeded(), r.failures().toString());
        assertEquals("hello", Files.readString(tmp.resolve("dst/sub/hello.txt")));
        assertTrue(NativeLoader.isLoaded());
    }

    /**
     * A separate program compiled against the jar that {@code mvn install} put into the local repository
     * (or, when only {@code mvn verify} ran, the jar the build just packaged), run in a fresh JVM whose
     * class path holds that jar alone: no picocli, no library path, no system property.
     */
    @Test
    void aSeparateProgramWithOnlyTheJarOnItsClassPathCopies() throws Exception {
        Path jar = Launcher.libraryJar();
        System.out.println("consumer uses " + jar);
        Path app = Files.createDirectory(tmp.resolve("app"));
        Files.writeString(app.resolve("Consumer.java"), String.join("\n",
                "import java.nio.file.Path;",
                "public class Consumer {",
                "  public static void main(String[] a) throws Exception {",
                "    var r = org.uringsync.LocalCopy.builder().build().copy(Path.of(a[0]), Path.of(a[1]));",
                "    System.out.println(r.files() + \" \" + r.succeeded());",
                "  }",
                "}"));
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-cp", jar.toString(), "-d", app.toString(),
                app.resolve("Consumer.java").toString());
        assertEquals(0, rc);
        Path src = Files.createDirectory(tmp.resolve("in"));
        for (int i = 0; i < 50; i++) {
            Files.writeString(src.resolve("f" + i), "x".repeat(i));
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Launcher.Result r = Launcher.exec(List.of(java, "-cp", jar + ":" + app, "Consumer", src.toString(),
                tmp.resolve("out").toString()));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("50 true", r.out().strip());
        Launcher.sh(tmp, "diff -r in out");
    }

    /**
     * A program on the module path: {@code requires org.uringsync} gives it the API package, which
     * copies (the C core loads from inside the module); an internal package is not visible to it at
     * compile time, and its javadoc jar documents the API package alone.
     */
    @Test
    void aModuleOnTheModulePathUsesTheApiAndCannotSeeTheInternals() throws Exception {
        Path jar = Launcher.libraryJar();
        Path mod = Files.createDirectories(tmp.resolve("consumer/consumer"));
        Files.writeString(tmp.resolve("consumer/module-info.java"), "module consumer { requires org.uringsync; }");
        Files.writeString(mod.resolve("Main.java"), String.join("\n",
                "package consumer;",
                "import java.nio.file.Path;",
                "public class Main {",
                "  public static void main(String[] a) throws Exception {",
                "    var r = org.uringsync.LocalCopy.builder().build().copy(Path.of(a[0]), Path.of(a[1]));",
                "    System.out.println(r.files() + \" \" + r.succeeded() + \" \" + Main.class.getModule().getName()",
                "        + \" \" + org.uringsync.LocalCopy.class.getModule().getName());",
                "  }",
                "}"));
        Path out = Files.createDirectories(tmp.resolve("consumer-classes"));
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-p", jar.toString(), "-d", out.toString(),
                tmp.resolve("consumer/module-info.java").toString(), mod.resolve("Main.java").toString());
        assertEquals(0, rc, "compiled against the module");
        Path src = Files.createDirectory(tmp.resolve("min"));
        for (int i = 0; i < 20; i++) {
            Files.writeString(src.resolve("f" + i), "y".repeat(i));
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Launcher.Result r = Launcher.exec(List.of(java, "-p",
                jar + ":" + out, "-m", "consumer/consumer.Main", src.toString(), tmp.resolve("mout").toString()));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("20 true consumer org.uringsync", r.out().strip());
        Launcher.sh(tmp, "diff -r min mout");

        Path sneaky = Files.createDirectories(tmp.resolve("sneaky/sneaky"));
        Files.writeString(tmp.resolve("sneaky/module-info.java"), "module sneaky { requires org.uringsync; }");
        Files.writeString(sneaky.resolve("Main.java"), "package sneaky; public class Main { org.uringsync.nativeio.Ring ring; }");
        java.io.ByteArrayOutputStream errors = new java.io.ByteArrayOutputStream();
        rc = ToolProvider.getSystemJavaCompiler().run(null, null, errors, "-p", jar.toString(), "-d",
                Files.createDirectories(tmp.resolve("sneaky-classes")).toString(), tmp.resolve("sneaky/module-info.java").toString(),
                sneaky.resolve("Main.java").toString());
        assertTrue(rc != 0 && errors.toString().contains("package org.uringsync.nativeio is not visible"), errors.toString());

        Path javadoc = jar.resolveSibling(jar.getFileName().toString().replace(".jar", "-javadoc.jar"));
        if (Files.exists(javadoc)) {
            String listing = Launcher.sh(tmp, "unzip -l " + javadoc + " | grep -o 'org/uringsync/[a-z]*/' | sort -u || true");
            assertEquals("", listing.strip(), "only the API package is documented");
        }
    }
}
