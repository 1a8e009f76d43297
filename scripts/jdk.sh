# Sourced by ./jlens and ./run-tests: finds a JDK 25 or newer and exports JAVA_HOME.

jdk_major() { # prints the feature version of the JDK at $1, or nothing
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}

find_jdk25() {
  local candidates=() dir major
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for dir in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* \
             "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$dir" ] && candidates+=("$dir")
  done
  if command -v javac >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
  fi
  for dir in "${candidates[@]}"; do
    major=$(jdk_major "$dir")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      export JAVA_HOME="$dir"
      return 0
    fi
  done
  echo "jlens needs a JDK 25 or newer and found none: install one (for example Temurin 25) or set JAVA_HOME to it." >&2
  return 1
}

require_maven() {
  # Maven 3.8 bundles a Guava that calls sun.misc.Unsafe; JDK 24+ warns about it on every build.
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
  command -v mvn >/dev/null 2>&1 && return 0
  echo "jlens builds with Apache Maven and found no 'mvn' on the PATH: install Maven 3.8 or newer." >&2
  return 1
}
