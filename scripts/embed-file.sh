#!/bin/sh
# embed-file.sh NAME FILE - prints a C file that defines the bytes of FILE
# as `const unsigned char NAME[]` (with a NUL after them) and their number
# as `const size_t NAME_len`: how the build compiles the dashboard page
# (src/obs/dashboard.html) into the binary.
set -e
name=$1
file=$2
echo "/* Generated from $file by scripts/embed-file.sh: do not edit. */"
echo "#include <stddef.h>"
echo "extern const unsigned char ${name}[];"
echo "extern const size_t ${name}_len;"
echo "const unsigned char ${name}[] = {"
od -An -v -tx1 "$file" | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
echo "0};"
echo "const size_t ${name}_len = sizeof ${name} - 1;"
