//===--- InputFile.cpp - reading a command's input files ------------------===//

#include "InputFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Process.h"

namespace coroscope::tool {
namespace {

llvm::Error cannotRead(llvm::StringRef Path, const llvm::Twine &Why) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "cannot read '" + Path + "': " + Why);
}

std::string limitText(uint64_t Limit) {
  return Limit % (1 << 20) == 0 ? std::to_string(Limit >> 20) + " MiB"
                                : std::to_string(Limit) + " bytes";
}

/// A stream read to its end, stopping once it passes \p Limit.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readStream(llvm::sys::fs::file_t File, llvm::StringRef Path, uint64_t Limit) {
  llvm::SmallString<0> Text;
  constexpr size_t Chunk = 1 << 16;
  while (true) {
    size_t Size = Text.size();
    Text.resize_for_overwrite(Size + Chunk);
    llvm::Expected<size_t> Read = llvm::sys::fs::readNativeFile(
        File, llvm::MutableArrayRef<char>(Text.data() + Size, Chunk));
    if (!Read)
      return cannotRead(Path, llvm::toString(Read.takeError()));
    Text.truncate(Size + *Read);
    if (*Read == 0)
      break;
    if (Text.size() > Limit)
      return cannotRead(Path,
                        "longer than the " + limitText(Limit) + " input limit");
  }
  return llvm::MemoryBuffer::getMemBufferCopy(Text, Path);
}

} // namespace

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readInputFile(llvm::StringRef Path, uint64_t Limit) {
  if (Path == "-")
    return readStream(llvm::sys::fs::getStdinHandle(), "<stdin>", Limit);
  llvm::sys::fs::file_status Status;
  if (std::error_code EC = llvm::sys::fs::status(Path, Status))
    return cannotRead(Path, EC.message());
  switch (Status.type()) {
  case llvm::sys::fs::file_type::regular_file: {
    if (Status.getSize() > Limit)
      return cannotRead(Path,
                        "larger than the " + limitText(Limit) + " input limit");
    auto Buffer = llvm::MemoryBuffer::getFile(Path, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!Buffer)
      return cannotRead(Path, Buffer.getError().message());
    return std::move(*Buffer);
  }
  case llvm::sys::fs::file_type::fifo_file: {
    llvm::Expected<llvm::sys::fs::file_t> File =
        llvm::sys::fs::openNativeFileForRead(Path);
    if (!File)
      return cannotRead(Path, llvm::toString(File.takeError()));
    auto Result = readStream(*File, Path, Limit);
    llvm::sys::fs::closeFile(*File);
    return Result;
  }
  case llvm::sys::fs::file_type::directory_file:
    return cannotRead(Path, "it is a directory");
  default:
    return cannotRead(Path, "not a regular file or a pipe");
  }
}

} // namespace coroscope::tool
