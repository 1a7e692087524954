// What the dial-in voice says, in one place (English, spoken by espeak-ng; see docs/DIAL-IN.md). Every text
// names its key so a caller who missed a word can act on the next prompt alone.

const languageNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' });

/** A language code as a caller hears it ("fr" -> "French"); codes Intl does not know are spelled out. */
export function spokenLanguage(code: string): string {
  const name = languageNames.of(code);
  return name && name !== code ? name : code.split('').join(' ');
}

export const prompts = {
  welcome: (title: string) => `Welcome to ${title}. Please key in your personal dial-in PIN, then press the hash key.`,
  pinAgain: 'That PIN was not accepted. Please key it in again, then press the hash key.',
  pinRefused: 'That PIN was not accepted. Goodbye.',
  tooManyAttempts: 'Too many attempts were made on this session. Please try again later. Goodbye.',
  unavailable: 'Accreditation cannot be checked at the moment. Please call again shortly. Goodbye.',
  notAccredited: 'You are not accredited for this session. Please contact the secretariat. Goodbye.',
  noSuchSession: 'This number does not lead to a meeting. Goodbye.',
  lobby: (name: string) => `Thank you, ${name}. Please hold: the secretariat will admit you.`,
  joined: (name: string, entity: string) => `You are connected as ${name}, ${entity}.`,
  /** The keypad menu: 0 the floor, 1 to 9 the session's languages in order, star the floor request, hash this menu. */
  menu: (languages: readonly string[], controlled: boolean) =>
    [
      'To hear the floor, press 0.',
      ...languages.slice(0, 9).map((l, i) => `For ${spokenLanguage(l)}, press ${i + 1}.`),
      controlled ? 'To ask for the floor, press star.' : 'To switch your microphone on or off, press star.',
      'To hear this menu again, press hash.',
    ].join(' '),
  hearing: (language: string | null) => (language ? `You are hearing ${spokenLanguage(language)}.` : 'You are hearing the floor.'),
  noSuchChannel: 'There is no language on that key.',
  floorRequested: 'You are on the speakers list.',
  floorWithdrawn: 'You are off the speakers list.',
  floorGiven: 'You have the floor.',
  floorHeld: 'You have the floor already.',
  floorTaken: 'You no longer have the floor.',
  timeWarning: 'Your speaking time is nearly over.',
  micOn: 'Your microphone is on.',
  micOff: 'Your microphone is off.',
  micBlocked: 'Your microphone was muted by the chair.',
  mayNotSpeak: 'Your accreditation does not include speaking in this session.',
  removed: 'You have been removed from this meeting. Goodbye.',
  ended: 'This meeting has ended. Goodbye.',
} as const;
