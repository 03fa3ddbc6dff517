//===- Sarif.cpp - SARIF 2.1.0 logs for code scanning ---------------------===//
#include "Sarif.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstring>

namespace coroscope::tool::sarif {

namespace {

/// file:// URI of an absolute path; unreserved characters and '/' stay.
std::string fileUri(llvm::StringRef Path, bool Directory) {
  std::string Uri = "file://";
  for (char C : Path) {
    if (llvm::isAlnum(C) || llvm::StringRef("-._~/").contains(C))
      Uri += C;
    else
      Uri += "%" + llvm::utohexstr(static_cast<unsigned char>(C), false, 2);
  }
  if (Directory && !llvm::StringRef(Uri).ends_with("/"))
    Uri += '/';
  return Uri;
}

/// Relative URI references are percent-encoded the same way.
std::string relativeUri(llvm::StringRef Path) {
  return fileUri(Path, false).substr(std::strlen("file://"));
}

} // namespace

std::string defaultSourceRoot(llvm::StringRef Start) {
  for (llvm::StringRef Dir = Start; !Dir.empty();
       Dir = llvm::sys::path::parent_path(Dir)) {
    llvm::SmallString<256> Git(Dir);
    llvm::sys::path::append(Git, ".git");
    if (llvm::sys::fs::exists(Git))
      return Dir.str();
  }
  return Start.str();
}

bool resolveSourceRoot(llvm::StringRef Requested, std::string &Root) {
  std::string Start = Requested.str();
  if (Start.empty()) {
    llvm::SmallString<256> Current;
    llvm::sys::fs::current_path(Current);
    Start = defaultSourceRoot(Current);
  }
  // Resolved as the findings' absolute paths are, through symlinks.
  llvm::SmallString<256> Real;
  if (llvm::sys::fs::real_path(Start, Real))
    return false;
  Root = Real.str().str();
  return true;
}

void writeLocation(llvm::json::OStream &J, llvm::StringRef Path, int64_t Line,
                   int64_t Column, llvm::StringRef SourceRoot) {
  J.attributeObject("physicalLocation", [&] {
    J.attributeObject("artifactLocation", [&] {
      llvm::SmallString<256> File(Path);
      llvm::sys::path::remove_dots(File, /*remove_dot_dot=*/true);
      llvm::StringRef Rel = File;
      if (!llvm::sys::path::is_absolute(Rel)) {
        J.attribute("uri", relativeUri(Rel));
        J.attribute("uriBaseId", "%SRCROOT%");
      } else if (Rel.consume_front(SourceRoot) &&
                 (Rel.empty() || llvm::sys::path::is_separator(Rel.front()))) {
        J.attribute("uri", relativeUri(Rel.ltrim('/')));
        J.attribute("uriBaseId", "%SRCROOT%");
      } else {
        J.attribute("uri", fileUri(File, false));
      }
    });
    if (Line > 0)
      J.attributeObject("region", [&] {
        J.attribute("startLine", Line);
        if (Column > 0)
          J.attribute("startColumn", Column);
      });
  });
}

void writeLog(llvm::raw_ostream &OS, llvm::StringRef ToolName,
              llvm::ArrayRef<Rule> Rules, llvm::StringRef SourceRoot,
              llvm::function_ref<void(llvm::json::OStream &)> Results) {
  llvm::json::OStream J(OS, 2);
  J.object([&] {
    J.attribute("$schema", "https://json.schemastore.org/sarif-2.1.0.json");
    J.attribute("version", "2.1.0");
    J.attributeArray("runs", [&] {
      J.object([&] {
        J.attributeObject("tool", [&] {
          J.attributeObject("driver", [&] {
            J.attribute("name", ToolName);
            J.attribute("informationUri",
                        "https://github.com/coroscope/coroscope");
            J.attributeArray("rules", [&] {
              for (const Rule &R : Rules)
                J.object([&] {
                  J.attribute("id", R.Id);
                  J.attributeObject("shortDescription", [&] {
                    J.attribute("text", R.Description);
                  });
                  J.attributeObject("defaultConfiguration",
                                    [&] { J.attribute("level", "warning"); });
                });
            });
          });
        });
        J.attributeObject("originalUriBaseIds", [&] {
          J.attributeObject("%SRCROOT%", [&] {
            J.attribute("uri", fileUri(SourceRoot, /*Directory=*/true));
          });
        });
        J.attributeArray("results", [&] { Results(J); });
      });
    });
  });
  OS << "\n";
}

} // namespace coroscope::tool::sarif
