/**
 * The recogniser often reads a capital O as the digit 0 ("0ctober", "0slo") and sometimes a
 * lowercase l as 1 ("sma1l"). Inside a word of letters the digit is almost surely the letter: in a
 * run of letters and digits with at least two letters and exactly one digit, a 0 at its start
 * (not "0x…"/"0b…") or between two letters becomes O (o between lowercase letters), and a 1 between
 * two letters becomes l (I between capitals). Digits at a word's end ("file1") and numbers stay.
 */
export function fixLetterDigits(text: string): string {
  return text.replace(/[A-Za-z0-9]+/g, (word) => {
    const digits = word.replace(/[A-Za-z]/g, '');
    if (digits.length !== 1 || word.length - 1 < 2 || (digits !== '0' && digits !== '1')) return word;
    const i = word.indexOf(digits);
    const before = word[i - 1];
    const after = word[i + 1];
    const between = before !== undefined && after !== undefined;
    const capitals = word.replace(/[^A-Za-z]/g, '') === word.replace(/[^A-Za-z]/g, '').toUpperCase();
    let letter: string | undefined;
    if (digits === '0' && i === 0 && after !== undefined && !/^0[xXbB]/.test(word)) letter = 'O';
    else if (digits === '0' && between) letter = capitals ? 'O' : 'o';
    else if (digits === '1' && between) letter = capitals ? 'I' : 'l';
    return letter === undefined ? word : word.slice(0, i) + letter + word.slice(i + 1);
  });
}
