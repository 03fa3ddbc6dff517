//===--- StripInstrumentation.cpp - coroscope instrument --strip ---------===//
//
// Removes instrumentation token by token: only comment tokens that are
// exactly the markers count, and only text between them that is one of the
// forms the engine writes (EmittedForms.h), with openers and closers
// balanced. Anything else is refused with the line it is on.
//
//===----------------------------------------------------------------------===//

#include "EmittedForms.h"
#include "Instrumenter.h"

#include "clang/Lex/Lexer.h"
#include "llvm/ADT/StringExtras.h"

using namespace clang;

namespace coroscope::rewriter {

namespace {

/// What the engine writes between two markers.
enum class Piece {
  Prefix,
  BodyOpen,
  BodyClose,
  SiteOpen,
  MacroSiteOpen,
  SiteClose,
  Return,
  LockWait, // a guard's wait, before its declaration
  LockHold, // its hold, after it
  LockCallOpen,
  Unknown
};

/// Reads the exact forms the engine writes, nothing looser.
class FormReader {
public:
  explicit FormReader(StringRef Text) : Rest(Text) {}
  bool done() const { return Rest.empty(); }
  bool eat(StringRef Word) { return Rest.consume_front(Word); }
  bool number(unsigned &N) {
    size_t Digits = 0;
    while (Digits < Rest.size() && Digits < 9 && llvm::isDigit(Rest[Digits]))
      ++Digits;
    if (!Digits || Rest.substr(0, Digits).getAsInteger(10, N))
      return false;
    Rest = Rest.drop_front(Digits);
    return true;
  }
  bool number() {
    unsigned Ignored;
    return number(Ignored);
  }
  /// A parenthesized expression copied from the source (a lock's
  /// address), through its string and character literals.
  bool group() {
    if (!eat("("))
      return false;
    unsigned Depth = 1;
    while (!Rest.empty() && Depth) {
      char C = Rest.front();
      Rest = Rest.drop_front();
      if (C == '(')
        ++Depth;
      else if (C == ')')
        --Depth;
      else if (C == '"' || C == '\'')
        while (!Rest.empty()) {
          char D = Rest.front();
          Rest = Rest.drop_front(D == '\\' && Rest.size() > 1 ? 2 : 1);
          if (D == C)
            break;
        }
    }
    return Depth == 0;
  }
  /// A lock site's fields: "class", "function", "file", line, column, kind).
  bool lockFields() {
    return string() && eat(", ") && string() && eat(", ") && string() &&
           eat(", ") && number() && eat(", ") && number() && eat(", ") &&
           (eat("mutex)") || eat("shared)") || eat("async)"));
  }
  /// A literal as quoted() writes it.
  bool string() {
    if (!eat("\""))
      return false;
    while (!Rest.empty()) {
      char C = Rest.front();
      Rest = Rest.drop_front();
      if (C == '"')
        return true;
      if (static_cast<unsigned char>(C) < 0x20 ||
          static_cast<unsigned char>(C) >= 0x7f)
        return false;
      if (C != '\\')
        continue;
      if (eat("\"") || eat("\\"))
        continue;
      if (Rest.size() < 3 || !llvm::all_of(Rest.take_front(3), [](char D) {
            return D >= '0' && D <= '7';
          }))
        return false;
      Rest = Rest.drop_front(3);
    }
    return false;
  }

private:
  StringRef Rest;
};

/// \p Number is a body's count of sites, or a site's index.
Piece classify(StringRef Text, unsigned &Number) {
  if (Text == PrefixText)
    return Piece::Prefix;
  if (Text == BodyClose)
    return Piece::BodyClose;
  if (Text == SuspensionClose)
    return Piece::SiteClose;
  if (Text == ReturnPrefix)
    return Piece::Return;
  // true and false: the child flag that earlier versions wrote.
  if (Text == "(COROSCOPE_I_AWAIT_HERE(child), " ||
      Text == "(COROSCOPE_I_AWAIT_HERE(false), " ||
      Text == "(COROSCOPE_I_AWAIT_HERE(true), " ||
      Text == "(COROSCOPE_I_YIELD_HERE(), ")
    return Piece::MacroSiteOpen;
  FormReader Site(Text);
  if ((Site.eat("(COROSCOPE_I_AT(") || Site.eat("((void)COROSCOPE_I_AT(") ||
       Site.eat("(COROSCOPE_I_CREATE(")) &&
      Site.number(Number) && Site.eat("), ") && Site.done() && Number > 0)
    return Piece::SiteOpen;
  FormReader Wait(Text);
  if (Wait.eat("COROSCOPE_I_LOCK_WAIT(") && Wait.number(Number) &&
      Wait.eat(", ") && Wait.group() && Wait.eat(", ") && Wait.lockFields() &&
      Wait.done())
    return Piece::LockWait;
  FormReader Hold(Text);
  if (Hold.eat("COROSCOPE_I_LOCK_HOLD(") && Hold.number(Number) &&
      Hold.eat(")") && Hold.done())
    return Piece::LockHold;
  FormReader Call(Text);
  if ((Call.eat("((void)::coroscope::lock_call{") ||
       Call.eat("::coroscope::lock_tried(") ||
       Call.eat("(::coroscope::lock_released(")) &&
      Call.group() && Call.eat(", COROSCOPE_I_LOCK_SITE(") &&
      Call.lockFields() &&
      (Call.eat("}, ") || Call.eat(", ") || Call.eat("), ")) && Call.done())
    return Piece::LockCallOpen;
  FormReader Body(Text);
  if (!(Body.eat("COROSCOPE_I_BODY(") && Body.string() && Body.eat(", ") &&
        Body.string() && Body.eat(", ") && Body.number() && Body.eat(", ") &&
        Body.number()))
    return Piece::Unknown;
  Number = 0;
  while (Body.eat(", COROSCOPE_I_SITE(")) {
    if (!((Body.eat("await, ") || Body.eat("yield, ") ||
           Body.eat("last_yield, ") || Body.eat("creation, ")) &&
          Body.number() &&
          Body.eat(", ") && Body.number() && Body.eat(", ") &&
          (Body.eat("event)") || Body.eat("child)") ||
           Body.eat("schedule)") || Body.eat("timer)") ||
           Body.eat("timer_task)") || Body.eat("true)") ||
           Body.eat("false)"))))
      return Piece::Unknown;
    ++Number;
  }
  return Body.eat(") COROSCOPE_TRY {") && Body.done() ? Piece::BodyOpen
                                                      : Piece::Unknown;
}

/// Calls \p Found(Begin, End, IsOpen) for each comment token of \p Text
/// that is exactly a marker, until it returns false. \p Text must be
/// followed by a NUL, as the lexer reads it.
template <typename Callback>
void forEachMarker(StringRef Text, Callback Found) {
  Lexer Raw(SourceLocation(), rawLangOptions(), Text.begin(), Text.begin(),
            Text.end());
  Raw.SetCommentRetentionState(true);
  Token Tok;
  while (true) {
    bool AtEnd = Raw.LexFromRawLexer(Tok);
    if (Tok.is(tok::comment)) {
      size_t End = Raw.getBufferLocation() - Text.begin();
      size_t Begin = End - Tok.getLength();
      StringRef Spelling = Text.slice(Begin, End);
      if ((Spelling == OpenMarker || Spelling == CloseMarker) &&
          !Found(Begin, End, Spelling == OpenMarker))
        return;
    }
    if (AtEnd)
      return;
  }
}

std::string excerpt(StringRef Text) {
  std::string Out;
  for (char C : Text.take_front(40))
    Out += C == '\n' ? std::string("\\n")
                     : std::string(1, llvm::isPrint(C) ? C : '?');
  return Text.size() > 40 ? Out + "..." : Out;
}

} // namespace

std::optional<std::string> stripInstrumentation(StringRef Input,
                                                std::string &Error) {
  const std::string Text = Input.str(); // NUL-terminated for the lexer
  auto LineOf = [](StringRef In, size_t Offset) {
    return std::to_string(1 + In.take_front(Offset).count('\n'));
  };
  const std::string Open = "'" + OpenMarker.str() + "'",
                    Close = "'" + CloseMarker.str() + "'";
  struct Opened {
    bool Body;
    unsigned Sites; // a body's sites; a guard's wait: its number
    size_t At;
    bool LockWait = false;
  };
  std::vector<Opened> Stack;
  std::vector<std::pair<size_t, size_t>> Cuts;
  std::optional<size_t> OpenAt;
  size_t PayloadAt = 0;
  const size_t PrefixAt = StringRef(Text).starts_with(ByteOrderMark) ? 3 : 0;
  std::string Problem;
  size_t ProblemAt = 0;
  auto Fail = [&](size_t At, std::string Message) {
    ProblemAt = At;
    Problem = std::move(Message);
    return false;
  };
  forEachMarker(Text, [&](size_t Begin, size_t End, bool IsOpen) {
    if (IsOpen) {
      if (OpenAt)
        return Fail(*OpenAt, Open + " without a matching " + Close);
      OpenAt = Begin;
      PayloadAt = End;
      return true;
    }
    if (!OpenAt)
      return Fail(Begin, Close + " without a matching " + Open);
    StringRef Payload = StringRef(Text).slice(PayloadAt, Begin);
    unsigned Number = 0;
    switch (classify(Payload, Number)) {
    case Piece::Prefix:
      if (*OpenAt != PrefixAt)
        return Fail(*OpenAt, "the runtime include is not at the start of "
                             "the file");
      break;
    case Piece::BodyOpen:
      Stack.push_back({true, Number, *OpenAt});
      break;
    case Piece::BodyClose:
      if (Stack.empty() || !Stack.back().Body)
        return Fail(*OpenAt,
                    Stack.empty()
                        ? "the end of a coroutine body that was not opened"
                        : "a coroutine body ends inside the suspension of "
                          "line " +
                              LineOf(Text, Stack.back().At));
      Stack.pop_back();
      break;
    case Piece::SiteOpen: {
      // A body can #include part of itself, so a site may have its body in
      // another file; only a body in this one bounds its number.
      auto Body = llvm::find_if(llvm::reverse(Stack),
                                [](const Opened &O) { return O.Body; });
      if (Body != Stack.rend() && Number > Body->Sites)
        return Fail(*OpenAt, "site " + std::to_string(Number) +
                                 ", but the body on line " +
                                 LineOf(Text, Body->At) + " has " +
                                 std::to_string(Body->Sites) +
                                 (Body->Sites == 1 ? " site" : " sites"));
      Stack.push_back({false, 0, *OpenAt});
      break;
    }
    case Piece::MacroSiteOpen:
    case Piece::LockCallOpen:
      Stack.push_back({false, 0, *OpenAt});
      break;
    case Piece::SiteClose:
      if (Stack.empty() || Stack.back().Body || Stack.back().LockWait)
        return Fail(*OpenAt, "the end of a suspension that was not opened");
      Stack.pop_back();
      break;
    case Piece::LockWait:
      Stack.push_back({false, Number, *OpenAt, true});
      break;
    case Piece::LockHold:
      if (Stack.empty() || !Stack.back().LockWait ||
          Stack.back().Sites != Number)
        return Fail(*OpenAt, "the hold of lock " + std::to_string(Number) +
                                 " has no wait before it");
      Stack.pop_back();
      break;
    case Piece::Return:
      break;
    case Piece::Unknown:
      return Fail(*OpenAt, "'" + excerpt(Payload) +
                               "' between markers is not coroscope's "
                               "instrumentation");
    }
    Cuts.push_back({*OpenAt, End});
    OpenAt.reset();
    return true;
  });
  if (Problem.empty() && OpenAt)
    Fail(*OpenAt, Open + " without a matching " + Close);
  if (Problem.empty() && !Stack.empty())
    Fail(Stack.back().At, Stack.back().Body
                              ? "a coroutine body's instrumentation is never "
                                "closed"
                          : Stack.back().LockWait
                              ? "a lock's wait has no hold after it"
                              : "a suspension's instrumentation is never "
                                "closed");
  if (!Problem.empty()) {
    Error = "line " + LineOf(Text, ProblemAt) + ": " + Problem;
    return std::nullopt;
  }
  std::string Out;
  Out.reserve(Text.size());
  size_t Done = 0;
  for (auto [Begin, End] : Cuts) {
    Out.append(Text, Done, Begin - Done);
    Done = End;
  }
  Out.append(Text, Done, std::string::npos);
  // Joining what a span separated must not make a new marker.
  std::optional<size_t> Left;
  forEachMarker(Out, [&](size_t Begin, size_t, bool) {
    Left = Begin;
    return false;
  });
  if (Left) {
    Error = "line " + LineOf(Out, *Left) +
            ": the text without its instrumentation still has a marker";
    return std::nullopt;
  }
  return Out;
}

} // namespace coroscope::rewriter
