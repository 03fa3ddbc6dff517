//===--- BoundedJson.cpp - parsing JSON from files nobody vouches for -----===//

#include "BoundedJson.h"

namespace coroscope {

llvm::Expected<llvm::json::Value> parseBoundedJson(llvm::StringRef Text,
                                                   unsigned MaxDepth) {
  unsigned Depth = 0;
  bool InString = false;
  for (size_t I = 0, N = Text.size(); I < N; ++I) {
    char C = Text[I];
    if (InString) {
      if (C == '\\')
        ++I;
      else if (C == '"')
        InString = false;
      continue;
    }
    if (C == '"') {
      InString = true;
    } else if (C == '[' || C == '{') {
      if (++Depth > MaxDepth)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "JSON nested deeper than %u levels at byte %zu", MaxDepth, I);
    } else if ((C == ']' || C == '}') && Depth > 0) {
      --Depth;
    }
  }
  return llvm::json::parse(Text);
}

} // namespace coroscope
